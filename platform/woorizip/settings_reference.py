"""The Markdown reference of every setting, rendered from the `Settings` model (docs/settings.md).

    .venv/bin/python -m woorizip.settings_reference > docs/settings.md

Names, types, defaults and descriptions come from the model itself, so the reference cannot drift from
the code (a test compares docs/settings.md with `render()`). Secrets are never printed: a secret's
default shows as "unset".
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from woorizip.settings import (
    PRODUCTION_REQUIREMENTS,
    AppleSettings,
    GoogleSettings,
    KakaoSettings,
    NaverSettings,
    ProviderSettings,
    Settings,
    SocialSettings,
)

COMMAND = ".venv/bin/python -m woorizip.settings_reference > docs/settings.md"
# The provider classes in the order of their columns, named as in the environment variables.
PROVIDERS: tuple[tuple[str, type[ProviderSettings]], ...] = (
    ("google", GoogleSettings),
    ("apple", AppleSettings),
    ("kakao", KakaoSettings),
    ("naver", NaverSettings),
)
_NOT_THERE = "—"
_BOUNDS = ((annotated_types.Ge, "ge", ">="), (annotated_types.Gt, "gt", ">"), (annotated_types.Le, "le", "<="),
           (annotated_types.Lt, "lt", "<"))  # fmt: skip


def render() -> str:
    """The whole reference as Markdown, ending with a newline."""
    prefix = Settings.model_config.get("env_prefix", "")
    social_prefix = SocialSettings.model_config.get("env_prefix", "")
    nested = SocialSettings.model_config.get("env_nested_delimiter") or "__"
    provider_fields = {name for name, field in SocialSettings.model_fields.items() if _is_provider(field)}
    lines = [
        "# Settings",
        "",
        f"_Generated from `woorizip.settings` by `{COMMAND}`: edit the field descriptions there, not this file._",
        "",
        "Each setting is an environment variable or a line of `.env` in the working directory (the environment",
        'wins). Lists are JSON (`["a", "b"]`). An unset URL means the embedded default for that concern,',
        "kept under `WOORIZIP_DATA_DIR`.",
        "",
        "| Variable | Type | Default | Description |",
        "| --- | --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        if name == "social":
            variable = f"{social_prefix}<PROVIDER>{nested}<FIELD>"
            lines.append(
                _row(f"`{variable}`", "see [providers](#providers)", _NOT_THERE, _description(Settings, name, field))
            )
            continue
        variable = f"`{prefix}{name.upper()}`"
        lines.append(_row(variable, _type(field), _default(field), _description(Settings, name, field)))

    lines += [
        "",
        "## Social sign-in",
        "",
        f"`Settings.social` reads its own variables (prefix `{social_prefix}`) from the environment only, not from",
        "`.env`.",
        "",
        "| Variable | Type | Default | Description |",
        "| --- | --- | --- | --- |",
    ]
    for name, field in SocialSettings.model_fields.items():
        if name in provider_fields:
            continue
        variable = f"`{social_prefix}{name.upper()}`"
        lines.append(_row(variable, _type(field), _default(field), _description(SocialSettings, name, field)))

    provider_names = [name for name in SocialSettings.model_fields if name in provider_fields]
    lines += [
        "",
        "### Providers",
        "",
        f"`{social_prefix}<PROVIDER>{nested}<FIELD>` with PROVIDER one of "
        + ", ".join(f"`{name.upper()}`" for name in provider_names)
        + f", e.g. `{social_prefix}KAKAO{nested}CLIENT_ID`. One variable changes one field and keeps the",
        "provider's other defaults below; a provider with an empty client id is switched off.",
        "",
        "| FIELD | Type | " + " | ".join(f"{name} default" for name, _ in PROVIDERS) + " | Description |",
        "| --- | --- | " + " | ".join("---" for _ in PROVIDERS) + " | --- |",
    ]
    for name in _provider_field_names():
        reference = next(cls.model_fields[name] for cls in _with_base() if name in cls.model_fields)
        defaults = [_default(cls.model_fields[name]) if name in cls.model_fields else _NOT_THERE for cls in _classes()]
        description = _first_description(name)
        lines.append(_row(f"`{name.upper()}`", _type(reference), *defaults, description))

    lines += [
        "",
        "## Production",
        "",
        "With `WOORIZIP_ENVIRONMENT=production` the settings refuse to load, naming every gap at once, unless",
        "all of these are set:",
        "",
        *(f"- {_code_name(requirement)}" for requirement, _ in PRODUCTION_REQUIREMENTS),
    ]
    return "\n".join(lines) + "\n"


def _code_name(requirement: str) -> str:
    """The requirement with its leading variable name as code."""
    name, _, rest = requirement.partition(" ")
    comma = "," if name.endswith(",") else ""
    return f"`{name.removesuffix(',')}`{comma} {rest}"


def _classes() -> list[type[ProviderSettings]]:
    return [cls for _, cls in PROVIDERS]


def _with_base() -> list[type[ProviderSettings]]:
    return [ProviderSettings, *_classes()]


def _provider_field_names() -> list[str]:
    """ProviderSettings' fields, then those only some providers have (Apple's key, Kakao's admin key)."""
    names = list(ProviderSettings.model_fields)
    for cls in _classes():
        names += [name for name in cls.model_fields if name not in names]
    return names


def _first_description(name: str) -> str:
    """A redefined provider field keeps the description ProviderSettings gives it."""
    for cls in _with_base():
        field = cls.model_fields.get(name)
        if field is not None and field.description:
            return _cell(field.description)
    raise ValueError(f"provider setting {name!r} has no description")


def _is_provider(field: FieldInfo) -> bool:
    return isinstance(field.annotation, type) and issubclass(field.annotation, ProviderSettings)


def _description(model: type[BaseModel], name: str, field: FieldInfo) -> str:
    if not field.description:
        raise ValueError(f"{model.__name__}.{name} has no description: give it Field(description=...)")
    return _cell(field.description)


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _cell(text: str) -> str:
    """One table cell: a single line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(_is_secret(argument) for argument in get_args(annotation))


def _type(field: FieldInfo) -> str:
    text = _type_name(field.annotation)
    bounds = []
    for constraint in field.metadata:
        for kind, attribute, symbol in _BOUNDS:
            if isinstance(constraint, kind):
                bounds.append(f"{symbol} {getattr(constraint, attribute)}")
    if bounds:
        text += ", " + ", ".join(bounds)
    return _cell(text)


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is Literal:
        return " | ".join(json.dumps(argument) for argument in arguments)
    if origin in (Union, types.UnionType):
        # An optional setting is unset by default: its type is what it takes when set.
        return " | ".join(_type_name(argument) for argument in arguments if argument is not type(None))
    if origin is list:
        return f"list of {_type_name(arguments[0])}"
    if annotation is SecretStr:
        return "secret"
    if annotation is Path:
        return "path"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if _is_secret(field.annotation):
        return "set (hidden)"  # never print a secret, not even a default one
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return _cell(f"`{json.dumps([str(item) if isinstance(item, Path) else item for item in value])}`")
    if isinstance(value, str) and not value:
        return '`""`'
    return _cell(f"`{value}`")


if __name__ == "__main__":
    sys.stdout.write(render())
