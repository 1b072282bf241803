"""S3 object store through boto3; `endpoint_url` points it at any S3-compatible server."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from woorizip.storage.base import ObjectNotFound, validate_key


class S3ObjectStore:
    backend = "s3"

    def __init__(
        self, *, bucket: str, region: str, endpoint_url: str | None = None, timeout_seconds: float = 2.0
    ) -> None:
        self.bucket = bucket
        self._client: Any = boto3.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                connect_timeout=timeout_seconds,
                read_timeout=max(timeout_seconds, 10.0),
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )

    def put(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        self._client.put_object(Bucket=self.bucket, Key=validate_key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise ObjectNotFound(key) from error
            raise
        return bytes(response["Body"].read())

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=validate_key(key))

    def presigned_get_url(self, key: str, *, expires_in: int = 900) -> str:
        """A time-limited GET URL the app can hand to a client."""
        return str(
            self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": validate_key(key)}, ExpiresIn=expires_in
            )
        )

    def ping(self) -> None:
        self._client.head_bucket(Bucket=self.bucket)
