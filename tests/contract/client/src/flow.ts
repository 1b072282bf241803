/**
 * The family flow of the 우리집 app, written the way the mobile team writes it: every call, parameter, body and
 * reply is typed from `api.d.ts`, which openapi-typescript generates from the server's OpenAPI document.
 *
 * `Api.request` answers a union with one member per status the operation declares, so
 * `if (reply.status !== 201) …` narrows the body to the 201 schema, and `case 409:` only compiles when the
 * operation declares a 409. Every declared error answers `application/problem+json` with the `Problem` schema,
 * whose `type` is the `ProblemType` enum: a `case` for a problem type the API does not know does not compile.
 *
 * Run as a script: `node dist/flow.js http://127.0.0.1:8000` exits 0 when the whole flow went as the
 * document says, 1 (with the reason) otherwise.
 */

import createClient from "openapi-fetch";
import { pathToFileURL } from "node:url";
import type { components, paths } from "./api.js";

// ---------------------------------------------------------------------------------------------------------------
// Types taken from the generated document
// ---------------------------------------------------------------------------------------------------------------

type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type ProblemType = Schemas["ProblemType"];
export type ValidationIssue = Schemas["ValidationIssue"];
type Tokens = Schemas["Tokens"];
type FamilyRead = Schemas["FamilyRead"];
type MemberRead = Schemas["MemberRead"];

type Method = "get" | "put" | "post" | "delete" | "patch";
type Path = keyof paths;

/** The operation object of `method path`, or never when the path has no such method. */
type Operation<P extends Path, M extends Method> = Exclude<paths[P][M], undefined>;
type MethodOf<P extends Path> = { [M in Method]: [Operation<P, M>] extends [never] ? never : M }[Method];

type ParametersOf<O> = O extends { parameters: infer X } ? X : never;
type PathInit<O> = ParametersOf<O> extends { path: infer T } ? { path: T } : { path?: never };
type QueryInit<O> =
    ParametersOf<O> extends { query: infer Q }
        ? { query: Q }
        : ParametersOf<O> extends { query?: infer Q }
          ? [Exclude<Q, undefined>] extends [never]
              ? { query?: never }
              : { query?: Exclude<Q, undefined> }
          : { query?: never };
type BodyInit<O> = O extends { requestBody?: never }
    ? { body?: never }
    : O extends { requestBody: { content: { "application/json": infer B } } }
      ? { body: B }
      : O extends { requestBody?: { content: { "application/json": infer B } } }
        ? { body?: B }
        : { body?: never };
/** What a call needs: path and query parameters, the JSON body, and the bearer token of signed-in routes. */
export type Init<O> = PathInit<O> & QueryInit<O> & BodyInit<O> & { token?: string };

type ResponsesOf<O> = O extends { responses: infer R } ? R : never;
type StatusOf<O> = Extract<keyof ResponsesOf<O>, number>;
type ReplyAt<S, R> = R extends { content: infer C }
    ? { [T in Extract<keyof C, string>]: { status: S; contentType: T; body: C[T]; headers: Headers } }[Extract<
          keyof C,
          string
      >]
    : { status: S; contentType: null; body: null; headers: Headers };
/** One member per status the operation declares, each with that status's media type and schema. */
export type Reply<O> = { [S in StatusOf<O>]: ReplyAt<S, ResponsesOf<O>[S]> }[StatusOf<O>];

// ---------------------------------------------------------------------------------------------------------------
// A small typed fetch wrapper
// ---------------------------------------------------------------------------------------------------------------

type Scalar = string | number | boolean | null | undefined;
interface RawInit {
    path?: Record<string, string>;
    query?: Record<string, Scalar>;
    body?: unknown;
    token?: string;
}
interface RawReply {
    status: number;
    contentType: string | null;
    body: unknown;
    headers: Headers;
}

export class Api {
    constructor(private readonly baseUrl: string) {}

    /** Call `method path`; the reply is typed by the status the server answered with. */
    request<P extends Path, M extends MethodOf<P>>(method: M, path: P, init: Init<Operation<P, M>>): Promise<Reply<Operation<P, M>>>;
    async request(method: Method, path: string, init: RawInit): Promise<RawReply> {
        const url = new URL(
            path.replace(/\{(\w+)\}/g, (_, name: string) => {
                const value = init.path?.[name];
                if (value === undefined) throw new FlowError(`${method} ${path}: no value for {${name}}`);
                return encodeURIComponent(value);
            }),
            this.baseUrl,
        );
        for (const [name, value] of Object.entries(init.query ?? {})) {
            if (value !== null && value !== undefined) url.searchParams.set(name, String(value));
        }
        const headers = new Headers({ Accept: "application/json, application/problem+json" });
        if (init.token !== undefined) headers.set("Authorization", `Bearer ${init.token}`);
        const request: RequestInit = { method: method.toUpperCase(), headers };
        if (init.body !== undefined) {
            headers.set("Content-Type", "application/json");
            request.body = JSON.stringify(init.body);
        }
        const response = await fetch(url, request);
        const text = await response.text();
        const contentType = response.headers.get("Content-Type")?.split(";")[0]?.trim() || null;
        const body: unknown = text === "" ? null : JSON.parse(text);
        return { status: response.status, contentType: text === "" ? null : contentType, body, headers: response.headers };
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Error handling, as the app shows it
// ---------------------------------------------------------------------------------------------------------------

export class FlowError extends Error {
    override name = "FlowError";
}

/** Anything but the status a step expects: the reply the server sent, for the bug report. */
function unexpected(step: string, reply: { status: number; contentType: string | null; body: unknown }): FlowError {
    return new FlowError(`${step}: unexpected ${reply.status} (${reply.contentType ?? "no body"}) ${JSON.stringify(reply.body)}`);
}

/** The server sent the media type the document declares for this status (the type says which one that is). */
function checkMediaType<R extends { status: number; contentType: string | null }>(
    step: string,
    reply: R,
    declared: R["contentType"],
): void {
    if (reply.contentType !== declared) {
        throw new FlowError(`${step}: ${reply.status} came as ${reply.contentType ?? "no body"}, declared ${declared ?? "no body"}`);
    }
}

function describeIssue(issue: ValidationIssue): string {
    const where = issue.loc.map((part) => (typeof part === "number" ? `[${part}]` : part)).join(".");
    return `${where}: ${issue.msg} (${issue.type})`;
}

/** The message a screen shows for a problem; the switch covers the kinds this flow can meet. */
export function messageFor(problem: Problem): string {
    switch (problem.type) {
        case "https://docs.woorizip.app/problems/already-member":
            return "이미 이 가족의 구성원이에요.";
        case "https://docs.woorizip.app/problems/invitation-not-found":
            return "초대 코드를 찾을 수 없어요.";
        case "https://docs.woorizip.app/problems/invitation-expired":
        case "https://docs.woorizip.app/problems/invitation-revoked":
        case "https://docs.woorizip.app/problems/invitation-used-up":
            return "더 이상 쓸 수 없는 초대예요.";
        case "https://docs.woorizip.app/problems/quota-exceeded":
            return "한도에 도달했어요.";
        case "https://docs.woorizip.app/problems/unauthorized":
        case "https://docs.woorizip.app/problems/invalid-refresh-token":
            return "다시 로그인해 주세요.";
        case "https://docs.woorizip.app/problems/validation-error":
            return (problem.errors ?? []).map(describeIssue).join("; ");
        case "https://docs.woorizip.app/problems/internal-error":
            return `잠시 후 다시 시도해 주세요 (${problem.request_id ?? "no request id"}).`;
        default:
            return problem.detail ?? problem.title;
    }
}

function expectProblem(step: string, problem: Problem, status: number, type: ProblemType): void {
    if (problem.type !== type || problem.status !== status) {
        throw new FlowError(`${step}: expected ${status} ${type}, got ${problem.status} ${problem.type}: ${problem.detail ?? ""}`);
    }
    if (typeof problem.title !== "string" || problem.title === "") throw new FlowError(`${step}: the problem has no title`);
}

// ---------------------------------------------------------------------------------------------------------------
// The flow
// ---------------------------------------------------------------------------------------------------------------

interface Session {
    userId: string;
    displayName: string;
    tokens: Tokens;
}

function log(line: string): void {
    console.log(`  ✓ ${line}`);
}

async function signUp(api: Api, displayName: string): Promise<Session> {
    const email = `${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}@example.kr`;
    const reply = await api.request("post", "/v1/auth/signup", {
        body: { email, password: "비밀번호는 길게 12자", display_name: displayName },
    });
    switch (reply.status) {
        case 201:
            checkMediaType("sign up", reply, "application/json");
            return { userId: reply.body.user.id, displayName: reply.body.user.display_name, tokens: reply.body.tokens };
        case 409:
        case 422:
        case 429:
            throw new FlowError(`sign up refused: ${reply.status} ${messageFor(reply.body)}`);
        default:
            throw unexpected("sign up", reply);
    }
}

/**
 * Every family I belong to, following `next_cursor` page by page. `savedCursor` is where an earlier session of
 * the app stopped; when the server no longer accepts it (400 `invalid-cursor`), start again from the first page.
 */
async function allMyFamilies(
    api: Api,
    token: string,
    pageSize: number,
    savedCursor: string | null = null,
): Promise<{ families: FamilyRead[]; pages: number; restarted: boolean }> {
    const families: FamilyRead[] = [];
    let cursor: string | null = savedCursor;
    let pages = 0;
    let restarted = false;
    for (;;) {
        // Annotated: `cursor` comes from the previous reply, which TypeScript cannot infer through a loop.
        const reply: Reply<Operation<"/v1/families", "get">> = await api.request("get", "/v1/families", {
            token,
            query: { limit: pageSize, cursor },
        });
        switch (reply.status) {
            case 200:
                checkMediaType("list my families", reply, "application/json");
                families.push(...reply.body.items);
                pages += 1;
                if (reply.body.next_cursor === null) return { families, pages, restarted };
                cursor = reply.body.next_cursor;
                break;
            case 400:
                checkMediaType("list my families", reply, "application/problem+json");
                if (reply.body.type !== "https://docs.woorizip.app/problems/invalid-cursor" || restarted) {
                    throw unexpected("list my families", reply);
                }
                families.length = 0;
                pages = 0;
                cursor = null;
                restarted = true;
                break;
            default:
                throw unexpected("list my families", reply);
        }
    }
}

async function allMembers(api: Api, token: string, familyId: string, pageSize: number): Promise<MemberRead[]> {
    const members: MemberRead[] = [];
    let cursor: string | null = null;
    do {
        const reply: Reply<Operation<"/v1/families/{family_id}/members", "get">> = await api.request("get", "/v1/families/{family_id}/members", {
            token,
            path: { family_id: familyId },
            query: { limit: pageSize, cursor },
        });
        switch (reply.status) {
            case 200:
                members.push(...reply.body.items);
                cursor = reply.body.next_cursor;
                break;
            case 404:
                throw new FlowError(`list members: ${messageFor(reply.body)}`);
            default:
                throw unexpected("list members", reply);
        }
    } while (cursor !== null);
    return members;
}

export async function main(baseUrl: string): Promise<void> {
    const api = new Api(baseUrl);

    // 1. The owner signs up and reads their profile.
    const owner = await signUp(api, "엄마");
    if (owner.tokens.token_type !== "Bearer") throw new FlowError(`token type: ${String(owner.tokens.token_type)}`);
    log(`signed up ${owner.displayName} (${owner.userId})`);

    const me = await api.request("get", "/v1/me", { token: owner.tokens.access_token });
    if (me.status !== 200) throw unexpected("get my profile", me);
    if (me.body.id !== owner.userId || me.body.email === null) throw new FlowError(`my profile: ${JSON.stringify(me.body)}`);
    log(`my profile: ${me.body.display_name} <${me.body.email}>`);

    const anonymous = await api.request("get", "/v1/me", {});
    if (anonymous.status !== 401) throw unexpected("profile without a token", anonymous);
    checkMediaType("profile without a token", anonymous, "application/problem+json");
    expectProblem("profile without a token", anonymous.body, 401, "https://docs.woorizip.app/problems/unauthorized");
    log(`no token → 401 ${messageFor(anonymous.body)}`);

    // 2. Two families, so the list has more than one page at one family per page.
    const created = await api.request("post", "/v1/families", {
        token: owner.tokens.access_token,
        body: { name: "우리집", interests: ["memories", "tastes"], nickname: "엄마" },
    });
    if (created.status !== 201) throw unexpected("create family", created);
    const family = created.body;
    if (family.my_role !== "owner" || family.timezone !== "Asia/Seoul") throw new FlowError(`new family: ${JSON.stringify(family)}`);
    log(`created family ${family.name} (${family.id}), I am ${family.my_role}`);

    const second = await api.request("post", "/v1/families", { token: owner.tokens.access_token, body: { name: "외갓집" } });
    if (second.status !== 201) throw unexpected("create a second family", second);

    const mine = await allMyFamilies(api, owner.tokens.access_token, 1);
    const ids = mine.families.map((each) => each.id);
    if (mine.pages < 2 || ids.length !== 2 || !ids.includes(family.id) || !ids.includes(second.body.id)) {
        throw new FlowError(`my families: ${JSON.stringify(ids)} in ${mine.pages} pages`);
    }
    log(`listed my ${ids.length} families over ${mine.pages} pages`);

    // A cursor saved by an older session that the server no longer accepts: start again from the first page.
    const resumed = await allMyFamilies(api, owner.tokens.access_token, 1, "c3RhbGUtY3Vyc29y");
    if (!resumed.restarted || resumed.families.length !== 2) throw new FlowError(`resume: ${JSON.stringify(resumed)}`);
    log("a stale saved cursor → 400 invalid-cursor, listed again from the first page");

    // 3. A validation error: every invalid field typed as { loc, type, msg }.
    const invalid = await api.request("post", "/v1/families", { token: owner.tokens.access_token, body: { name: "" } });
    switch (invalid.status) {
        case 422: {
            checkMediaType("invalid family", invalid, "application/problem+json");
            expectProblem("invalid family", invalid.body, 422, "https://docs.woorizip.app/problems/validation-error");
            const issues: ValidationIssue[] = invalid.body.errors ?? [];
            const nameIssue = issues.find((issue) => issue.loc[0] === "body" && issue.loc[1] === "name");
            if (nameIssue === undefined || nameIssue.type.length === 0 || nameIssue.msg.length === 0) {
                throw new FlowError(`invalid family: no issue at body.name in ${JSON.stringify(issues)}`);
            }
            log(`empty name → 422 ${messageFor(invalid.body)}`);
            break;
        }
        default:
            throw unexpected("create a family without a name", invalid);
    }

    const badPage = await api.request("get", "/v1/families", { token: owner.tokens.access_token, query: { limit: 0 } });
    if (badPage.status !== 422) throw unexpected("a page of 0 families", badPage);
    const limitIssue = badPage.body.errors?.find((issue) => issue.loc.join(".") === "query.limit");
    if (limitIssue === undefined) throw new FlowError(`limit=0: ${JSON.stringify(badPage.body)}`);
    log(`limit=0 → 422 ${describeIssue(limitIssue)}`);

    // 4. Members and an invitation.
    const before = await allMembers(api, owner.tokens.access_token, family.id, 50);
    if (before.length !== 1 || before[0]?.user_id !== owner.userId) throw new FlowError(`members: ${JSON.stringify(before)}`);
    log(`the family has ${before.length} member: ${before.map((m) => `${m.nickname} (${m.role})`).join(", ")}`);

    const invited = await api.request("post", "/v1/families/{family_id}/invitations", {
        token: owner.tokens.access_token,
        path: { family_id: family.id },
        body: { role: "member", max_uses: 1 },
    });
    switch (invited.status) {
        case 201:
            break;
        case 403:
        case 404:
        case 409:
            throw new FlowError(`invite: ${invited.status} ${messageFor(invited.body)}`);
        default:
            throw unexpected("invite", invited);
    }
    const invitation = invited.body;
    log(`invitation ${invitation.code} for a ${invitation.role}, ${invitation.uses}/${invitation.max_uses} used`);

    // 5. The second person signs up, previews, accepts.
    const kid = await signUp(api, "둘째");
    const unknown = await api.request("get", "/v1/invitations/{code}", { token: kid.tokens.access_token, path: { code: "ZZZZ-ZZZZ" } });
    if (unknown.status !== 404) throw unexpected("preview an unknown code", unknown);
    expectProblem("preview an unknown code", unknown.body, 404, "https://docs.woorizip.app/problems/invitation-not-found");
    log(`unknown code → 404 ${messageFor(unknown.body)}`);

    const preview = await api.request("get", "/v1/invitations/{code}", { token: kid.tokens.access_token, path: { code: invitation.code } });
    switch (preview.status) {
        case 200:
            if (preview.body.family_name !== family.name) throw new FlowError(`preview: ${JSON.stringify(preview.body)}`);
            log(`${kid.displayName} previews: ${preview.body.family_name} as ${preview.body.role} until ${preview.body.expires_at}`);
            break;
        case 404:
        case 410:
            throw new FlowError(`preview: ${messageFor(preview.body)}`);
        default:
            throw unexpected("preview", preview);
    }

    const accepted = await api.request("post", "/v1/invitations/{code}/accept", {
        token: kid.tokens.access_token,
        path: { code: invitation.code },
        body: { nickname: "막내", birth_year: 2012 },
    });
    if (accepted.status !== 201) throw unexpected("accept", accepted);
    if (accepted.body.family.id !== family.id || accepted.body.member.nickname !== "막내" || accepted.body.family.my_role !== "member") {
        throw new FlowError(`joined: ${JSON.stringify(accepted.body)}`);
    }
    log(`${kid.displayName} joined as ${accepted.body.member.nickname} (${accepted.body.member.role})`);

    // 6. Accepting twice is refused with a typed problem.
    const again = await api.request("post", "/v1/invitations/{code}/accept", {
        token: kid.tokens.access_token,
        path: { code: invitation.code },
    });
    switch (again.status) {
        case 201:
            throw new FlowError("accepting twice succeeded");
        case 409:
        case 410: {
            checkMediaType("accept twice", again, "application/problem+json");
            const problem = again.body;
            switch (problem.type) {
                case "https://docs.woorizip.app/problems/already-member":
                    log(`accept twice → ${again.status} ${messageFor(problem)}`);
                    break;
                case "https://docs.woorizip.app/problems/invitation-used-up":
                case "https://docs.woorizip.app/problems/quota-exceeded":
                    throw new FlowError(`accept twice: ${problem.type}, expected already-member`);
                default:
                    throw unexpected("accept twice", again);
            }
            break;
        }
        default:
            throw unexpected("accept twice", again);
    }

    // 7. The owner sees both members, one per page.
    const after = await allMembers(api, owner.tokens.access_token, family.id, 1);
    const nicknames = after.map((member) => member.nickname).sort();
    if (after.length !== 2 || nicknames.join(",") !== ["막내", "엄마"].sort().join(",")) {
        throw new FlowError(`members after joining: ${JSON.stringify(after)}`);
    }
    log(`the family has ${after.length} members: ${nicknames.join(", ")}`);

    // 8. The stock generated client (openapi-fetch) reads the same document.
    const client = createClient<paths>({ baseUrl });
    const { data: familyData, error: familyError } = await client.GET("/v1/families/{family_id}", {
        params: { path: { family_id: family.id } },
        headers: { Authorization: `Bearer ${kid.tokens.access_token}` },
    });
    if (familyError !== undefined) throw new FlowError(`openapi-fetch: ${messageFor(familyError)}`);
    if (familyData.my_member_id !== accepted.body.member.id) throw new FlowError(`openapi-fetch: ${JSON.stringify(familyData)}`);
    const { error: strangerError, response: strangerResponse } = await client.GET("/v1/families/{family_id}", {
        params: { path: { family_id: "0".repeat(32) } },
        headers: { Authorization: `Bearer ${kid.tokens.access_token}` },
    });
    if (strangerError === undefined || strangerResponse.status !== 404) throw new FlowError("openapi-fetch: a family not mine answered");
    expectProblem("openapi-fetch: a family not mine", strangerError, 404, "https://docs.woorizip.app/problems/family-not-found");
    log(`openapi-fetch: my member id ${familyData.my_member_id}; a family not mine → 404 ${strangerError.type}`);

    // 9. Refresh the session, log out, and the tokens stop working.
    const refreshed = await api.request("post", "/v1/auth/refresh", { body: { refresh_token: kid.tokens.refresh_token } });
    switch (refreshed.status) {
        case 200:
            break;
        case 401:
        case 429:
            throw new FlowError(`refresh: ${messageFor(refreshed.body)}`);
        default:
            throw unexpected("refresh", refreshed);
    }
    const tokens = refreshed.body;
    if (tokens.refresh_token === kid.tokens.refresh_token) throw new FlowError("refresh: the refresh token did not rotate");
    log(`refreshed: a new access token for ${tokens.expires_in}s, the refresh token rotated`);

    const stillMe = await api.request("get", "/v1/me", { token: tokens.access_token });
    if (stillMe.status !== 200 || stillMe.body.id !== kid.userId) throw unexpected("profile with the refreshed token", stillMe);

    const loggedOut = await api.request("post", "/v1/auth/logout", { token: tokens.access_token });
    if (loggedOut.status !== 204) throw unexpected("log out", loggedOut);
    checkMediaType("log out", loggedOut, null);
    const nothing: null = loggedOut.body;
    if (nothing !== null) throw new FlowError("log out answered a body");
    log("logged out: 204, no body");

    const afterLogout = await api.request("get", "/v1/me", { token: tokens.access_token });
    if (afterLogout.status !== 401) throw unexpected("profile after logging out", afterLogout);
    expectProblem("profile after logging out", afterLogout.body, 401, "https://docs.woorizip.app/problems/unauthorized");
    const spent = await api.request("post", "/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } });
    if (spent.status !== 401) throw unexpected("refresh after logging out", spent);
    expectProblem("refresh after logging out", spent.body, 401, "https://docs.woorizip.app/problems/invalid-refresh-token");
    log(`after logging out: access → 401, refresh → 401 (${messageFor(spent.body)})`);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
    const baseUrl = process.argv[2];
    if (baseUrl === undefined) {
        console.error("usage: node dist/flow.js <base url>");
        process.exit(2);
    }
    main(baseUrl).then(
        () => {
            console.log("flow: ok");
        },
        (error: unknown) => {
            console.error(`flow: FAILED: ${error instanceof Error ? error.message : String(error)}`);
            process.exitCode = 1;
        },
    );
}
