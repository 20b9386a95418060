"""The opcua receiver's rules its schema cannot state (run by validation on an entry its schema accepts)."""

from __future__ import annotations

from typing import Any

from edge.pipeline.config.violations import Violation, error, quoted
from edge.pipeline.receivers.opcua.nodeids import node_id_problem
from edge.pipeline.receivers.opcua.options import NO_SECURITY, TIME_FIELD


def checks(entry: dict[str, Any]) -> list[Violation]:
    violations = []
    for index, connection in enumerate(entry.get("connections") or []):
        if connection.get("security_mode") and connection.get("security_policy", NO_SECURITY) == NO_SECURITY:
            violations.append(error(("connections", index, "security_mode"),
                                    f"security_mode {quoted(connection['security_mode'])} needs a security_policy "
                                    "(Basic256Sha256 or Aes128_Sha256_RsaOaep)."))
        if connection.get("password") and not connection.get("username"):
            violations.append(error(("connections", index, "password"), "A password needs a username."))
    for s_index, stream in enumerate(entry.get("streams") or []):
        seen: dict[str, int] = {}
        for t_index, tag in enumerate(stream.get("opcua_tags") or []):
            path = ("streams", s_index, "opcua_tags", t_index)
            problem = node_id_problem(tag["name"])
            if problem:
                violations.append(error(path + ("name",), f"The NodeId {quoted(tag['name'])} {problem}."))
            exportname = tag.get("exportname") or tag["name"]
            key = "exportname" if "exportname" in tag else "name"
            if exportname == TIME_FIELD:
                violations.append(error(path + (key,), f"The field name {quoted(TIME_FIELD)} holds each record's "
                                                       "time; give the tag another exportname."))
            elif exportname in seen:
                violations.append(error(path + (key,), f"The field name {quoted(exportname)} is already taken by "
                                                       f"opcua_tags[{seen[exportname]}] of this stream; exportnames "
                                                       "must differ within a stream."))
            else:
                seen[exportname] = t_index
    return violations
