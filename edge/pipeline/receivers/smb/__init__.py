"""SMB receiver: reads data files from a Microsoft Windows network share."""
