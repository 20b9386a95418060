"""The file-receiver core shared by the localfile and smb receivers.

A receiver lists the files of each connection (a `FileSource`, `source`), picks for each
stream (`streams`) the files its file_filter matches that are new or changed and have
settled (`settle`), reads them in chunks of whole records (`chunks`), parses and transforms
each chunk and hands it to the sinks (the historian, the transmits' outboxes), recording its
progress per file in the catalog (`filestate`, `progress`) with each chunk's intent
committed first (`intent`), so that after a crash nothing is lost and nothing is stored
twice. A file read again is checked to be the one read before (`identity`); the next chunks
are parsed while one is stored (`readahead`); what goes wrong is reported as markers
(`markers`). `receiver` ties the pass together.
"""
