"""bitrix24_core."""
