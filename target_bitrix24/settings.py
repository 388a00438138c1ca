"""The target's settings, described once: `--about`, Meltano and docs/target.md all follow this schema.

Credentials and limits are the tap's own settings (tap_bitrix24.settings), so one Meltano config serves
both and both read them with bitrix24_core.settings.
"""

from __future__ import annotations

from singer_sdk import typing as th

from tap_bitrix24.settings import CREDENTIALS, RATE_LIMITS, TIME_SCALE

DEFAULT_DEAD_LETTER = "output/target-bitrix24-dead-letter.jsonl"

STREAM_ROUTE = th.ObjectType(
    th.Property("entity", th.StringType, description="crm.deal, crm.lead, crm.contact, crm.company, ..."),
    th.Property("entity_type_id", th.IntegerType, description="Smart process (crm.item) entityTypeId."),
    th.Property("operation", th.StringType, allowed_values=["add", "update", "upsert"]),
    th.Property("match_field", th.StringType, description="ID, ORIGIN_ID or a user field (UF_...)."),
    additional_properties=False,
)

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

CONFIG_SCHEMA = th.PropertiesList(*CREDENTIALS, *RATE_LIMITS, TIME_SCALE, *WRITING).to_dict()
