"""target_bitrix24."""
