"""The file-receiver core shared by the localfile and smb receivers.

A receiver lists the files of each connection (a `FileSource`), picks for each stream the
files its file_filter matches that are new or changed and have settled (`settle`), reads
them in chunks of whole records, parses and transforms each chunk and hands it to the sinks
(the historian), recording its progress per file in the catalog (`filestate`) so that after
a crash nothing is lost and nothing is stored twice (`receiver`).
"""
