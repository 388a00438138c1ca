"""Field metadata of every entity in the shape `*.fields` answers (type, flags, title, extras).

A field row is written compactly as (NAME, type, title, flags) where flags holds letters:
r read-only, q required, i immutable, m multiple. Extras (statusType, settings) follow as a dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Row = tuple  # (name, type, title, flags[, extras])


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: str
    read_only: bool = False
    required: bool = False
    immutable: bool = False
    multiple: bool = False
    dynamic: bool = False  # user fields
    extras: dict[str, Any] = field(default_factory=dict)
    camel: str = ""  # crm.item key (empty for legacy entities)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "isRequired": self.required,
            "isReadOnly": self.read_only,
            "isImmutable": self.immutable,
            "isMultiple": self.multiple,
            "isDynamic": self.dynamic,
            "title": self.title,
        }
        out.update(self.extras)
        return out


def build(rows: list[Row]) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for row in rows:
        name, ftype, title, flags = row[:4]
        extras = row[4] if len(row) > 4 else {}
        out[name] = Field(
            name,
            ftype,
            title,
            read_only="r" in flags,
            required="q" in flags,
            immutable="i" in flags,
            multiple="m" in flags,
            extras=dict(extras),
        )
    return out


# Field types whose values are instants (stored as epoch seconds).
DATE_TYPES = frozenset({"date", "datetime"})
INT_TYPES = frozenset(
    {
        "integer",
        "int",
        "user",
        "employee",
        "crm_company",
        "crm_contact",
        "crm_lead",
        "crm_deal",
        "crm_quote",
        "crm_category",
        "crm_enum_ownertype",
        "crm_enum_activitytype",
        "crm_enum_activitystatus",
        "crm_enum_activitypriority",
        "crm_enum_activitynotifytype",
        "crm_enum_contenttype",
        "crm_enum_activitydirection",
        "enumeration",
        "location",
        "file",
    }
)
FLOAT_TYPES = frozenset({"double"})
FLAG_TYPES = frozenset({"char"})
MULTIFIELD_TYPE = "crm_multifield"
MULTIFIELDS = ("PHONE", "EMAIL", "WEB", "IM", "LINK")

_UTM = [
    ("UTM_SOURCE", "string", "Ad system", ""),
    ("UTM_MEDIUM", "string", "Traffic type", ""),
    ("UTM_CAMPAIGN", "string", "Ad campaign UTM", ""),
    ("UTM_CONTENT", "string", "Campaign contents", ""),
    ("UTM_TERM", "string", "Campaign search term", ""),
]
_AUDIT = [
    ("ASSIGNED_BY_ID", "user", "Responsible person", ""),
    ("CREATED_BY_ID", "user", "Created by", "r"),
    ("MODIFY_BY_ID", "user", "Modified by", "r"),
    ("DATE_CREATE", "datetime", "Created on", "r"),
    ("DATE_MODIFY", "datetime", "Modified on", "r"),
]
_ORIGIN = [
    ("ORIGINATOR_ID", "string", "External source", ""),
    ("ORIGIN_ID", "string", "Item ID in data source", ""),
]
_LAST_ACTIVITY = [
    ("LAST_ACTIVITY_TIME", "datetime", "Last activity", "r"),
    ("LAST_ACTIVITY_BY", "user", "Last activity by", "r"),
]
_MULTI = [
    ("PHONE", MULTIFIELD_TYPE, "Phone", "m"),
    ("EMAIL", MULTIFIELD_TYPE, "E-mail", "m"),
    ("WEB", MULTIFIELD_TYPE, "Website", "m"),
    ("IM", MULTIFIELD_TYPE, "Messenger", "m"),
    ("LINK", MULTIFIELD_TYPE, "Link", "m"),
]
_HAS = [
    ("HAS_PHONE", "char", "Has phone", "r"),
    ("HAS_EMAIL", "char", "Has email", "r"),
    ("HAS_IMOL", "char", "Has Open Channel", "r"),
]

DEAL = build(
    [
        ("ID", "integer", "ID", "r"),
        ("TITLE", "string", "Name", ""),
        ("TYPE_ID", "crm_status", "Type", "", {"statusType": "DEAL_TYPE"}),
        ("CATEGORY_ID", "crm_category", "Pipeline", "i"),
        ("STAGE_ID", "crm_status", "Stage", "", {"statusType": "DEAL_STAGE"}),
        ("STAGE_SEMANTIC_ID", "string", "Stage group", "r"),
        ("IS_NEW", "char", "New deal", "r"),
        ("IS_RECURRING", "char", "Recurring deal", ""),
        ("IS_RETURN_CUSTOMER", "char", "Repeat deal", ""),
        ("IS_REPEATED_APPROACH", "char", "Repeat inquiry", ""),
        ("PROBABILITY", "integer", "Probability", ""),
        ("CURRENCY_ID", "crm_currency", "Currency", ""),
        ("OPPORTUNITY", "double", "Amount", ""),
        ("IS_MANUAL_OPPORTUNITY", "char", "IS_MANUAL_OPPORTUNITY", ""),
        ("TAX_VALUE", "double", "Tax rate", ""),
        ("COMPANY_ID", "crm_company", "Company", "", {"settings": {"parentEntityTypeId": 4}}),
        ("CONTACT_ID", "crm_contact", "Contact", "", {"isDeprecated": True}),
        ("CONTACT_IDS", "crm_contact", "Contacts", "m"),
        ("QUOTE_ID", "crm_quote", "Quote", "r", {"settings": {"parentEntityTypeId": 7}}),
        ("BEGINDATE", "date", "Start date", ""),
        ("CLOSEDATE", "date", "End date", ""),
        ("OPENED", "char", "Available to everyone", ""),
        ("CLOSED", "char", "Closed", ""),
        ("COMMENTS", "string", "Comment", ""),
        *_AUDIT,
        ("MOVED_BY_ID", "user", "MOVED_BY_ID", "r"),
        ("MOVED_TIME", "datetime", "MOVED_TIME", "r"),
        ("SOURCE_ID", "crm_status", "Source", "", {"statusType": "SOURCE"}),
        ("SOURCE_DESCRIPTION", "string", "Source information", ""),
        ("LEAD_ID", "crm_lead", "Lead", "r", {"settings": {"parentEntityTypeId": 1}}),
        ("ADDITIONAL_INFO", "string", "Additional information", ""),
        ("LOCATION_ID", "location", "Location", ""),
        *_ORIGIN,
        *_UTM,
        *_LAST_ACTIVITY,
    ]
)

LEAD = build(
    [
        ("ID", "integer", "ID", "r"),
        ("TITLE", "string", "Lead name", ""),
        ("HONORIFIC", "crm_status", "Salutation", "", {"statusType": "HONORIFIC"}),
        ("NAME", "string", "First name", ""),
        ("SECOND_NAME", "string", "Second name", ""),
        ("LAST_NAME", "string", "Last name", ""),
        ("BIRTHDATE", "date", "Date of birth", ""),
        ("COMPANY_TITLE", "string", "Company name", ""),
        ("SOURCE_ID", "crm_status", "Source", "", {"statusType": "SOURCE"}),
        ("SOURCE_DESCRIPTION", "string", "Source information", ""),
        ("STATUS_ID", "crm_status", "Status", "", {"statusType": "STATUS"}),
        ("STATUS_DESCRIPTION", "string", "Status information", ""),
        ("STATUS_SEMANTIC_ID", "string", "Status details", "r"),
        ("POST", "string", "Position", ""),
        ("ADDRESS", "string", "Address", ""),
        ("ADDRESS_CITY", "string", "City", ""),
        ("ADDRESS_COUNTRY", "string", "Country", ""),
        ("CURRENCY_ID", "crm_currency", "Currency", ""),
        ("OPPORTUNITY", "double", "Total", ""),
        ("IS_MANUAL_OPPORTUNITY", "char", "IS_MANUAL_OPPORTUNITY", ""),
        ("OPENED", "char", "Available to everyone", ""),
        ("COMMENTS", "string", "Comment", ""),
        *_HAS,
        *_AUDIT,
        ("COMPANY_ID", "crm_company", "Company", "", {"settings": {"parentEntityTypeId": 4}}),
        ("CONTACT_ID", "crm_contact", "Contact", "", {"settings": {"parentEntityTypeId": 3}}),
        ("IS_RETURN_CUSTOMER", "char", "Repeat lead", "r"),
        ("DATE_CLOSED", "datetime", "Completed on", "r"),
        *_ORIGIN,
        *_UTM,
        *_LAST_ACTIVITY,
        *_MULTI,
    ]
)

CONTACT = build(
    [
        ("ID", "integer", "ID", "r"),
        ("HONORIFIC", "crm_status", "Salutation", "", {"statusType": "HONORIFIC"}),
        ("NAME", "string", "First name", ""),
        ("SECOND_NAME", "string", "Second name", ""),
        ("LAST_NAME", "string", "Last name", ""),
        ("PHOTO", "file", "Photo", ""),
        ("BIRTHDATE", "date", "Date of birth", ""),
        ("TYPE_ID", "crm_status", "Contact type", "", {"statusType": "CONTACT_TYPE"}),
        ("SOURCE_ID", "crm_status", "Source", "", {"statusType": "SOURCE"}),
        ("SOURCE_DESCRIPTION", "string", "Source information", ""),
        ("POST", "string", "Position", ""),
        ("COMMENTS", "string", "Comment", ""),
        ("OPENED", "char", "Available to everyone", ""),
        ("EXPORT", "char", "Included in export", ""),
        *_HAS,
        *_AUDIT,
        ("COMPANY_ID", "crm_company", "Company", "", {"isDeprecated": True}),
        ("COMPANY_IDS", "crm_company", "COMPANY_IDS", "m"),
        ("LEAD_ID", "crm_lead", "Lead", "r"),
        *_ORIGIN,
        *_UTM,
        *_LAST_ACTIVITY,
        *_MULTI,
    ]
)

COMPANY = build(
    [
        ("ID", "integer", "ID", "r"),
        ("TITLE", "string", "Company name", "q"),
        ("COMPANY_TYPE", "crm_status", "Company type", "", {"statusType": "COMPANY_TYPE"}),
        ("LOGO", "file", "Logo", ""),
        ("ADDRESS", "string", "Address", ""),
        ("ADDRESS_CITY", "string", "City", ""),
        ("ADDRESS_COUNTRY", "string", "Country", ""),
        ("BANKING_DETAILS", "string", "Payment details", ""),
        ("INDUSTRY", "crm_status", "Industry", "", {"statusType": "INDUSTRY"}),
        ("EMPLOYEES", "crm_status", "Employees", "", {"statusType": "EMPLOYEES"}),
        ("CURRENCY_ID", "crm_currency", "Currency", ""),
        ("REVENUE", "double", "Annual revenue", ""),
        ("OPENED", "char", "Available to everyone", ""),
        ("COMMENTS", "string", "Comment", ""),
        *_HAS,
        ("IS_MY_COMPANY", "char", "My Company", ""),
        *_AUDIT,
        ("CONTACT_ID", "crm_contact", "Contact", "m"),
        ("LEAD_ID", "crm_lead", "Lead", "r"),
        *_ORIGIN,
        *_UTM,
        *_LAST_ACTIVITY,
        *_MULTI,
    ]
)

ACTIVITY = build(
    [
        ("ID", "integer", "ID", "r"),
        ("OWNER_ID", "integer", "Owner ID", "qi"),
        ("OWNER_TYPE_ID", "crm_enum_ownertype", "Owner type", "qi"),
        ("TYPE_ID", "crm_enum_activitytype", "Type", "qi"),
        ("PROVIDER_ID", "string", "PROVIDER_ID", "i"),
        ("PROVIDER_TYPE_ID", "string", "PROVIDER_TYPE_ID", "i"),
        ("PROVIDER_GROUP_ID", "string", "PROVIDER_GROUP_ID", "i"),
        ("ASSOCIATED_ENTITY_ID", "integer", "ASSOCIATED_ENTITY_ID", "r"),
        ("SUBJECT", "string", "Subject", "q"),
        ("CREATED", "datetime", "Created on", "r"),
        ("LAST_UPDATED", "datetime", "Updated on", "r"),
        ("START_TIME", "datetime", "Start time", ""),
        ("END_TIME", "datetime", "End time", ""),
        ("DEADLINE", "datetime", "Deadline", "r"),
        ("COMPLETED", "char", "Completed", ""),
        ("STATUS", "crm_enum_activitystatus", "Status", ""),
        ("RESPONSIBLE_ID", "user", "Responsible person", "q"),
        ("PRIORITY", "crm_enum_activitypriority", "Importance", ""),
        ("NOTIFY_TYPE", "crm_enum_activitynotifytype", "Notification type", ""),
        ("NOTIFY_VALUE", "integer", "Notification value", ""),
        ("DESCRIPTION", "string", "Description", ""),
        ("DESCRIPTION_TYPE", "crm_enum_contenttype", "Description type", ""),
        ("DIRECTION", "crm_enum_activitydirection", "Direction", "i"),
        ("LOCATION", "string", "Location", ""),
        ("SETTINGS", "object", "SETTINGS", ""),
        ("ORIGINATOR_ID", "string", "Data source", ""),
        ("ORIGIN_ID", "string", "Item ID in data source", ""),
        ("AUTHOR_ID", "user", "Created by", ""),
        ("EDITOR_ID", "user", "Modified by", "r"),
        ("PROVIDER_PARAMS", "object", "PROVIDER_PARAMS", ""),
        ("PROVIDER_DATA", "string", "PROVIDER_DATA", ""),
        ("RESULT_MARK", "integer", "RESULT_MARK", ""),
        ("RESULT_VALUE", "double", "RESULT_VALUE", ""),
        ("RESULT_SUM", "double", "RESULT_SUM", ""),
        ("RESULT_CURRENCY_ID", "string", "RESULT_CURRENCY_ID", ""),
        ("RESULT_STATUS", "integer", "RESULT_STATUS", ""),
        ("RESULT_STREAM", "integer", "RESULT_STREAM", ""),
        ("RESULT_SOURCE_ID", "string", "RESULT_SOURCE_ID", ""),
        ("AUTOCOMPLETE_RULE", "integer", "AUTOCOMPLETE_RULE", ""),
        ("BINDINGS", "crm_activity_binding", "Bindings", "rm"),
        ("COMMUNICATIONS", "crm_activity_communication", "Communications", "qm"),
        ("FILES", "diskfile", "Files", "m"),
        ("IS_INCOMING_CHANNEL", "char", "IS_INCOMING_CHANNEL", "r"),
    ]
)

# Fields a legacy list returns only when named in select (besides multi-fields and UF_*).
ACTIVITY_SELECT_ONLY = frozenset({"COMMUNICATIONS", "BINDINGS", "FILES"})
# Link lists `*.fields` describes but legacy list/get never return (docs crm-deal-get.md): read them
# with crm.deal.contact.items.get / crm.contact.company.items.get or crm.item (contactIds).
HIDDEN = {"deal": frozenset({"CONTACT_IDS"}), "contact": frozenset({"COMPANY_IDS"})}

# crm.item fields shared by smart processes and invoices: (camel, UPPER, type, title, flags[, extras]).
ITEM_ROWS: list[tuple] = [
    ("id", "ID", "integer", "ID", "r"),
    ("xmlId", "XML_ID", "string", "External ID", ""),
    ("title", "TITLE", "string", "Name", ""),
    ("createdBy", "CREATED_BY", "user", "Created by", "r"),
    ("updatedBy", "UPDATED_BY", "user", "Updated by", "r"),
    ("movedBy", "MOVED_BY", "user", "Moved by", "r"),
    ("createdTime", "CREATED_TIME", "datetime", "Created on", "r"),
    ("updatedTime", "UPDATED_TIME", "datetime", "Updated on", "r"),
    ("movedTime", "MOVED_TIME", "datetime", "Moved on", "r"),
    ("categoryId", "CATEGORY_ID", "crm_category", "Pipeline", ""),
    ("opened", "OPENED", "boolean", "Available to everyone", ""),
    ("stageId", "STAGE_ID", "crm_status", "Stage", ""),
    ("previousStageId", "PREVIOUS_STAGE_ID", "crm_status", "Previous stage", "r"),
    ("begindate", "BEGINDATE", "date", "Start date", ""),
    ("closedate", "CLOSEDATE", "date", "End date", ""),
    ("companyId", "COMPANY_ID", "crm_company", "Company", ""),
    ("contactId", "CONTACT_ID", "crm_contact", "Contact", ""),
    ("opportunity", "OPPORTUNITY", "double", "Amount", ""),
    ("isManualOpportunity", "IS_MANUAL_OPPORTUNITY", "boolean", "Manual amount", ""),
    ("taxValue", "TAX_VALUE", "double", "Tax", ""),
    ("currencyId", "CURRENCY_ID", "crm_currency", "Currency", ""),
    ("mycompanyId", "MYCOMPANY_ID", "crm_company", "Your company details", ""),
    ("sourceId", "SOURCE_ID", "crm_status", "Source", ""),
    ("sourceDescription", "SOURCE_DESCRIPTION", "text", "Source information", ""),
    ("assignedById", "ASSIGNED_BY_ID", "user", "Responsible person", ""),
    ("webformId", "WEBFORM_ID", "integer", "Created by CRM form", "r"),
    ("observers", "OBSERVERS", "user", "Observers", "m"),
    ("contactIds", "CONTACT_IDS", "crm_contact", "Contacts", "m"),
    ("entityTypeId", "ENTITY_TYPE_ID", "integer", "Entity type", "r"),
    ("lastActivityTime", "LAST_ACTIVITY_TIME", "datetime", "Last activity", "r"),
    ("lastActivityBy", "LAST_ACTIVITY_BY", "user", "Last activity by", "r"),
]
# Item field types that are 'Y'/'N' strings on the wire.
ITEM_FLAG_TYPES = frozenset({"boolean"})

CURRENCY = build(
    [
        ("CURRENCY", "string", "Currency code", "rq"),
        ("AMOUNT_CNT", "integer", "Nominal", "q"),
        ("AMOUNT", "double", "Exchange rate", "q"),
        ("BASE", "char", "Base currency", "r"),
        ("SORT", "integer", "Sort index", ""),
        ("DATE_UPDATE", "datetime", "Updated on", "r"),
        ("FULL_NAME", "string", "Name", ""),
        ("LID", "string", "Language ID", ""),
        ("FORMAT_STRING", "string", "Currency format", ""),
        ("DEC_POINT", "string", "Decimal separator", ""),
        ("THOUSANDS_SEP", "string", "Thousands separator", ""),
        ("DECIMALS", "integer", "Decimal places", ""),
        ("LANG", "currency_localization", "Localizations", "m"),
    ]
)

STATUS = build(
    [
        ("ID", "integer", "ID", "r"),
        ("ENTITY_ID", "string", "Entity ID", "qi"),
        ("STATUS_ID", "string", "Status ID", "qi"),
        ("NAME", "string", "Name", "q"),
        ("NAME_INIT", "string", "Default name", "r"),
        ("SORT", "integer", "Sort", ""),
        ("SYSTEM", "char", "System", "r"),
        ("CATEGORY_ID", "integer", "Pipeline", "r"),
        ("COLOR", "string", "Color", ""),
        ("SEMANTICS", "string", "Semantics", "r"),
        ("EXTRA", "object", "Extra", "r"),
    ]
)

USER_LABELS: dict[str, str] = {
    "ID": "ID",
    "XML_ID": "XML ID",
    "ACTIVE": "Active",
    "NAME": "First name",
    "LAST_NAME": "Last name",
    "SECOND_NAME": "Second name",
    "TITLE": "Title",
    "EMAIL": "E-mail",
    "LAST_LOGIN": "Last login",
    "DATE_REGISTER": "Registered on",
    "TIME_ZONE": "Time zone",
    "IS_ONLINE": "Online",
    "TIMESTAMP_X": "Modified on",
    "LAST_ACTIVITY_DATE": "Last activity",
    "PERSONAL_GENDER": "Gender",
    "PERSONAL_PROFESSION": "Profession",
    "PERSONAL_WWW": "Web page",
    "PERSONAL_BIRTHDAY": "Date of birth",
    "PERSONAL_PHOTO": "Photo",
    "PERSONAL_ICQ": "ICQ",
    "PERSONAL_PHONE": "Phone",
    "PERSONAL_FAX": "Fax",
    "PERSONAL_MOBILE": "Mobile",
    "PERSONAL_PAGER": "Pager",
    "PERSONAL_STREET": "Street",
    "PERSONAL_CITY": "City",
    "PERSONAL_STATE": "State",
    "PERSONAL_ZIP": "Zip",
    "PERSONAL_COUNTRY": "Country",
    "PERSONAL_MAILBOX": "Mailbox",
    "PERSONAL_NOTES": "Notes",
    "WORK_PHONE": "Work phone",
    "WORK_COMPANY": "Company",
    "WORK_POSITION": "Position",
    "WORK_DEPARTMENT": "Department",
    "WORK_WWW": "Company website",
    "WORK_FAX": "Work fax",
    "WORK_PAGER": "Work pager",
    "WORK_STREET": "Work street",
    "WORK_MAILBOX": "Work mailbox",
    "WORK_CITY": "Work city",
    "WORK_STATE": "Work state",
    "WORK_ZIP": "Work zip",
    "WORK_COUNTRY": "Work country",
    "WORK_PROFILE": "Company profile",
    "WORK_NOTES": "Work notes",
    "UF_SKYPE_LINK": "Skype chat",
    "UF_ZOOM": "Zoom",
    "UF_EMPLOYMENT_DATE": "Employment date",
    "UF_TIMEMAN": "Time tracking",
    "UF_DEPARTMENT": "Departments",
    "UF_INTERESTS": "Interests",
    "UF_SKILLS": "Skills",
    "UF_WEB_SITES": "Other websites",
    "UF_XING": "Xing",
    "UF_LINKEDIN": "LinkedIn",
    "UF_FACEBOOK": "Facebook",
    "UF_TWITTER": "Twitter",
    "UF_SKYPE": "Skype",
    "UF_DISTRICT": "District",
    "UF_PHONE_INNER": "Extension number",
    "USER_TYPE": "User type",
}

DEPARTMENT_LABELS: dict[str, str] = {
    "ID": "ID",
    "NAME": "Department",
    "SORT": "Sort",
    "PARENT": "Parent department",
    "UF_HEAD": "Supervisor",
}

# User fields (UF_CRM_*) present on deals, leads, contacts and companies: (name, type, label, extras).
CRM_USER_FIELDS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("UF_CRM_DELIVERY_ADDRESS", "string", "Delivery address", {}),
    ("UF_CRM_DISCOUNT", "double", "Discount, %", {"settings": {"PRECISION": 2, "DEFAULT_VALUE": None}}),
    ("UF_CRM_VIP", "boolean", "VIP client", {"settings": {"DEFAULT_VALUE": 0, "DISPLAY": "CHECKBOX"}}),
    ("UF_CRM_CONTRACT_DATE", "date", "Contract date", {}),
    ("UF_CRM_NEXT_CALL", "datetime", "Next call", {}),
    ("UF_CRM_BUDGET", "money", "Budget", {}),
    ("UF_CRM_REGION", "enumeration", "Region", {"enum": ["North", "South", "East", "West", "Central"]}),
    ("UF_CRM_TAGS", "string", "Tags", {"multiple": True}),
    ("UF_CRM_1721244707107", "integer", "Loyalty points", {}),
]


def user_fields(entity_index: int) -> dict[str, Field]:
    """CRM user fields of one entity; enum item IDs are unique across entities (as in b_user_field_enum)."""
    out: dict[str, Field] = {}
    for name, ftype, label, extras in CRM_USER_FIELDS:
        meta: dict[str, Any] = {
            "listLabel": label,
            "formLabel": label,
            "filterLabel": label,
            "settings": extras.get("settings", {}),
        }
        if "enum" in extras:
            base = 40 + entity_index * 10
            meta["items"] = [{"ID": str(base + i), "VALUE": v} for i, v in enumerate(extras["enum"])]
        out[name] = Field(name, ftype, name, multiple=bool(extras.get("multiple")), dynamic=True, extras=meta)
    return out


def enum_ids(fld: Field) -> list[int]:
    return [int(item["ID"]) for item in fld.extras.get("items", [])]


def item_fields(entity_type_id: int, uf_prefix: str) -> dict[str, Field]:
    """crm.item fields of one type, keyed by camelCase name; user fields named from the type's prefix."""
    out: dict[str, Field] = {}
    for row in ITEM_ROWS:
        camel, upper, ftype, title, flags = row[:5]
        extras: dict[str, Any] = {"upperName": upper}
        if ftype == "crm_status" and camel in ("stageId", "previousStageId"):
            extras["statusType"] = f"DYNAMIC_{entity_type_id}_STAGE_1"
        out[camel] = Field(
            camel,
            ftype,
            title,
            read_only="r" in flags,
            required="q" in flags,
            multiple="m" in flags,
            extras=extras,
            camel=camel,
        )
    for suffix, ftype, label, multiple in _ITEM_UF:
        upper = f"UF_CRM_{uf_prefix}_{suffix}"
        camel = _uf_camel(uf_prefix, suffix)
        meta: dict[str, Any] = {
            "upperName": upper,
            "listLabel": label,
            "formLabel": label,
            "filterLabel": label,
        }
        meta["settings"] = {}
        out[camel] = Field(camel, ftype, label, multiple=multiple, dynamic=True, extras=meta, camel=camel)
    return out


_ITEM_UF = [
    ("1712345678", "string", "Contract number", False),
    ("1712345679", "double", "Weight, kg", False),
    ("1712345680", "boolean", "Urgent", False),
    ("1712345681", "date", "Deadline", False),
    ("1712345682", "string", "Labels", True),
]


def _uf_camel(prefix: str, suffix: str) -> str:
    """UF_CRM_5_1712345678 -> ufCrm5_1712345678; UF_CRM_SMART_INVOICE_1712 -> ufCrmSmartInvoice_1712."""
    parts = prefix.split("_")
    head = "".join(p if p.isdigit() else p.capitalize() for p in parts)
    return f"ufCrm{head}_{suffix}"
