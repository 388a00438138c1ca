"""bitrix24_sandbox."""
