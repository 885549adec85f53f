"""Reading the Kafka SASL credentials' secret from AWS Secrets Manager (boto3 stays out of the pure modules).

Example::

    security = kafka_security("SASL_SSL", None, environ=os.environ, secret_id="AmazonMSK_foodnow",
                              read_secret=secret_reader(os.environ))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from feedguard.errors import EnvironmentProblem, TransientError, UsageError

SECRETS_ENDPOINT_ENV = "FEEDGUARD_SECRETS_ENDPOINT"  # a local endpoint (moto in tests), else AWS's


def secret_reader(environ: Mapping[str, str], client: Any = None) -> Callable[[str], str]:
    """``read(secret_id) -> SecretString`` with ``client`` (default: boto3's, made on the first read).

    Errors name the secret, never its value: not found or not a string is exit 2, access denied exit 74
    (the role lacks ``secretsmanager:GetSecretValue``), an endpoint that does not answer exit 75.
    """

    def read(secret_id: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return str((client or _client(environ)).get_secret_value(SecretId=secret_id)["SecretString"])
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "")) or type(exc).__name__
            text = f"cannot read the Kafka secret {secret_id!r}: {code}"
            if code == "AccessDeniedException":
                raise EnvironmentProblem(
                    f"{text}; allow secretsmanager:GetSecretValue to the job's role"
                ) from None
            raise UsageError(text) from None
        except BotoCoreError as exc:
            raise TransientError(
                f"cannot read the Kafka secret {secret_id!r}: {type(exc).__name__}"
            ) from None
        except KeyError:
            raise UsageError(f"the Kafka secret {secret_id!r} has no SecretString") from None

    return read


def _client(environ: Mapping[str, str]) -> Any:
    import boto3

    return boto3.client("secretsmanager", endpoint_url=environ.get(SECRETS_ENDPOINT_ENV) or None)
