"""tap_bitrix24."""
