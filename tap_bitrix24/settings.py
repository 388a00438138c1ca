"""The tap's settings, described once: `--about`, Meltano and the docs all read this schema.

The connection settings (CREDENTIALS, RATE_LIMITS, TIME_SCALE) are the target's too: target_bitrix24
builds its schema from these same lists, and both read them with bitrix24_core.settings.
"""

from __future__ import annotations

from singer_sdk import typing as th

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
    th.Property(
        "domain",
        th.StringType,
        title="Portal domain (OAuth)",
        description="Portal address for OAuth, e.g. example.bitrix24.com (a URL with scheme is kept).",
    ),
    th.Property("client_id", th.StringType, title="OAuth client ID", description="Application client_id."),
    th.Property(
        "client_secret",
        th.StringType,
        secret=True,
        title="OAuth client secret",
        description="Application client_secret.",
    ),
    th.Property(
        "refresh_token",
        th.StringType,
        secret=True,
        title="OAuth refresh token",
        description="Refresh token of the installed application (rotates; lives 180 days).",
    ),
    th.Property(
        "refresh_token_file",
        th.StringType,
        title="Refresh token file (OAuth)",
        description=(
            "File where the current refresh token is kept: Bitrix24 rotates it on every renewal, "
            "so the configured refresh_token works once. Read first when it exists."
        ),
    ),
    th.Property(
        "oauth_server",
        th.StringType,
        default="https://oauth.bitrix.info",
        title="OAuth server",
        description="Address of the OAuth token server that renews access tokens.",
    ),
]

RATE_LIMITS = [
    th.Property(
        "plan",
        th.StringType,
        default="standard",
        allowed_values=["standard", "enterprise"],
        title="Portal plan",
        description=(
            "Sets the request-rate limits: standard = bucket 50 drained at 2/s, "
            "enterprise = bucket 250 drained at 5/s."
        ),
    ),
    th.Property(
        "rate_limit_bucket",
        th.NumberType,
        title="Rate limit: bucket size",
        description="Explicit request bucket size X (overrides plan; give with rate_limit_drain).",
    ),
    th.Property(
        "rate_limit_drain",
        th.NumberType,
        title="Rate limit: drain per second",
        description="Explicit drain Y requests per second (overrides plan; give with rate_limit_bucket).",
    ),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=70,
        title="Request timeout (seconds)",
        description="Read timeout of one HTTP request; the cloud stops a request at 60 s.",
    ),
]

TIME_SCALE = th.Property(
    "time_scale",
    th.NumberType,
    default=1,
    title="Time scale (advanced)",
    description=(
        "Speed factor of the portal's clock; 1 for real portals. Only for a sped-up local "
        "sandbox (bitrix24-sandbox --speed F), so waits are divided by F."
    ),
)

CONFIG_SCHEMA = th.PropertiesList(
    *CREDENTIALS,
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description=(
            "Read only records modified at or after this instant (first run of incremental streams). "
            "Empty reads everything."
        ),
    ),
    th.Property(
        "lookback_seconds",
        th.IntegerType,
        default=300,
        title="Lookback window (seconds)",
        description=(
            "Safety margin subtracted from the portal time at the start of each incremental read; "
            "the next run re-reads records modified in this window."
        ),
    ),
    th.Property(
        "smart_process_types",
        th.ArrayType(th.IntegerType),
        title="Smart-process types",
        description=(
            "entityTypeId values of the smart processes to read (one stream each). "
            "Empty or absent: every type that crm.type.list returns."
        ),
    ),
    th.Property(
        "include_user_fields",
        th.BooleanType,
        default=True,
        title="Include user fields",
        description="Discover and read custom fields (UF_* / uf*), labelled from listLabel/formLabel.",
    ),
    *RATE_LIMITS,
    th.Property(
        "read_ahead_streams",
        th.IntegerType,
        default=4,
        title="Streams read ahead",
        description=(
            "While one stream is written, up to this many of the large streams after it are read in "
            "the background (each Bitrix24 method has its own operating-time budget), their pages "
            "spooled to a temporary file (disk, not memory; TMPDIR). 0 reads one stream at a time."
        ),
    ),
    th.Property(
        "parallelism",
        th.IntegerType,
        default=1,
        title="Parallel readers",
        description=(
            "Readers per large stream, each walking its own ID range (advanced; the rate limit "
            "and operating-time budget are shared, so more readers mostly help on Enterprise)."
        ),
    ),
    TIME_SCALE,
).to_dict()
