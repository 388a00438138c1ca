"""The target's settings, described once: `--about`, Meltano and docs/target.md all follow this schema.

Credentials and limits carry the same names as the tap's, so one Meltano config serves both.
"""

from __future__ import annotations

from singer_sdk import typing as th

DEFAULT_DEAD_LETTER = "output/target-bitrix24-dead-letter.jsonl"

STREAM_ROUTE = th.ObjectType(
    th.Property("entity", th.StringType, description="crm.deal, crm.lead, crm.contact, crm.company, ..."),
    th.Property("entity_type_id", th.IntegerType, description="Smart process (crm.item) entityTypeId."),
    th.Property("operation", th.StringType, allowed_values=["add", "update", "upsert"]),
    th.Property("match_field", th.StringType, description="ID, ORIGIN_ID or a user field (UF_...)."),
    additional_properties=False,
)

CREDENTIALS = [
    th.Property(
        "webhook_url",
        th.StringType,
        secret=True,
        title="Webhook URL",
        description=(
            "Inbound webhook address, https://<portal>/rest/<user id>/<code>/. "
            "Give this OR the OAuth settings (domain, client_id, client_secret, refresh_token)."
        ),
    ),
    th.Property("domain", th.StringType, title="Portal domain (OAuth)", description="e.g. x.bitrix24.com"),
    th.Property("client_id", th.StringType, title="OAuth client ID"),
    th.Property("client_secret", th.StringType, secret=True, title="OAuth client secret"),
    th.Property("refresh_token", th.StringType, secret=True, title="OAuth refresh token"),
    th.Property(
        "refresh_token_file",
        th.StringType,
        title="Refresh token file (OAuth)",
        description="Where the current refresh token is kept: Bitrix24 rotates it on every renewal.",
    ),
    th.Property(
        "oauth_server",
        th.StringType,
        default="https://oauth.bitrix.info",
        title="OAuth server",
        description="Address of the OAuth token server that renews access tokens.",
    ),
]

LIMITS = [
    th.Property(
        "plan",
        th.StringType,
        default="standard",
        allowed_values=["standard", "enterprise"],
        title="Portal plan",
        description="Request-rate limits: standard = bucket 50 drained at 2/s, enterprise = 250 at 5/s.",
    ),
    th.Property("rate_limit_bucket", th.NumberType, title="Rate limit: bucket size (overrides plan)"),
    th.Property("rate_limit_drain", th.NumberType, title="Rate limit: drain per second (overrides plan)"),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=70,
        title="Request timeout (seconds)",
        description="Read timeout of one HTTP request; a write that times out is resolved by lookup.",
    ),
    th.Property(
        "time_scale",
        th.NumberType,
        default=1,
        title="Time scale (advanced)",
        description="Speed factor of a sped-up local sandbox's clock; 1 for real portals.",
    ),
]

WRITING = [
    th.Property(
        "streams",
        th.ObjectType(additional_properties=STREAM_ROUTE),
        title="Stream routes",
        description=(
            'Per stream name: {"entity", "entity_type_id", "operation", "match_field"}. Unlisted streams go '
            "by name: deals, leads, contacts, companies, activities, and crm_item_<entityTypeId>."
        ),
    ),
    th.Property(
        "default_operation",
        th.StringType,
        default="upsert",
        allowed_values=["add", "update", "upsert"],
        title="Default operation",
        description="add, update (by the match field) or upsert (update when the key is found, else add).",
    ),
    th.Property(
        "default_match_field",
        th.StringType,
        default="ID",
        title="Default match field",
        description="Field that identifies a record: ID, ORIGIN_ID or a user field (UF_CRM_...).",
    ),
    th.Property(
        "strict_fields",
        th.BooleanType,
        default=False,
        title="Strict fields",
        description="Fail a record with an unknown or read-only column instead of dropping it (warning).",
    ),
    th.Property("halt_on_error", th.BooleanType, default=False, title="Stop at the first failed record"),
    th.Property(
        "max_failures",
        th.IntegerType,
        default=0,
        title="Failures allowed",
        description="The run exits non-zero when more records than this failed (all are dead-lettered).",
    ),
    th.Property(
        "dead_letter_path",
        th.StringType,
        default=DEFAULT_DEAD_LETTER,
        title="Dead-letter file",
        description="JSON lines file: one line per failed record with stream, record, error code and text.",
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        title="Dry run",
        description="Convert, check and look up every record, write nothing; the summary says what would be.",
    ),
    th.Property(
        "max_write_attempts",
        th.IntegerType,
        default=6,
        title="Write attempts",
        description="Attempts per record after retryable failures (rate limits, 5xx, timeouts).",
    ),
]

CONFIG_SCHEMA = th.PropertiesList(*CREDENTIALS, *LIMITS, *WRITING).to_dict()
