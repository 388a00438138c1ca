"""bitrix24_core: a Bitrix24 REST SDK with the public interface of the seed (b24pysdk).

``from bitrix24_core import Client, BitrixWebhook``; errors in ``bitrix24_core.error`` (the seed's
``b24pysdk.error``), loggers in ``bitrix24_core.log``, events in ``bitrix24_core.events``.
"""

from . import error
from .batch import BitrixAPIBatchesRequest, BitrixAPIBatchRequest
from .client import Client
from .config import Config
from .credentials import AbstractCredentials, BitrixApp, BitrixToken, BitrixWebhook
from .entities import ENTITIES, Entity, entity
from .requests import BitrixAPIListFastRequest, BitrixAPIListRequest, BitrixAPIRequest
from .responses import BitrixAPIBatchResult, BitrixAPIResponse, BitrixTimeResponse
from .transport import CallOptions

__all__ = [
    "ENTITIES",
    "AbstractCredentials",
    "BitrixAPIBatchRequest",
    "BitrixAPIBatchResult",
    "BitrixAPIBatchesRequest",
    "BitrixAPIListFastRequest",
    "BitrixAPIListRequest",
    "BitrixAPIRequest",
    "BitrixAPIResponse",
    "BitrixApp",
    "BitrixTimeResponse",
    "BitrixToken",
    "BitrixWebhook",
    "CallOptions",
    "Client",
    "Config",
    "Entity",
    "entity",
    "error",
]
