from edge.pipeline.runtime.services import ConfiguredStream, configured_services, configured_streams


def test_services_take_names_types_and_factorytx_default_poll_intervals():
    config = {
        "data_receiver": [
            {"data_receiver_name": "files", "protocol": "localfile", "streams": []},
            {"data_receiver_name": "plc", "protocol": "opcua", "poll_interval": 0.5},
        ],
        "data_transmit": [
            {"transmit_name": "cloud", "base_url": "https://x.sightmachine.io"},
            {"transmit_name": "cloud_2", "transmit_type": "remotedatapost", "poll_interval": 60},
        ],
    }
    specs = configured_services(config)
    assert [(s.key, s.component_type, s.type_name, s.poll_interval) for s in specs] == [
        ("receiver:files", "Receiver", "localfile", 5.0),
        ("receiver:plc", "Receiver", "opcua", 0.5),
        ("transmit:cloud", "Transmit", "remotedatapost", 30.0),
        ("transmit:cloud_2", "Transmit", "remotedatapost", 60.0),
    ]
    assert specs[0].config is config["data_receiver"][0]
    assert specs[0].section == "data_receiver" and specs[2].section == "data_transmit"


def test_unusable_entries_and_intervals_fall_back_instead_of_failing():
    config = {"data_receiver": ["text", {"protocol": "sql", "poll_interval": True},
                                {"data_receiver_name": "x", "protocol": "sql", "poll_interval": -1}],
              "data_transmit": None}
    specs = configured_services(config)
    assert [(s.name, s.poll_interval) for s in specs] == [("data_receiver_1", 5.0), ("x", 5.0)]
    assert configured_services({}) == [] and configured_services([]) == []


def test_streams_are_listed_per_receiver_in_order():
    config = {"data_receiver": [
        {"data_receiver_name": "r1", "protocol": "localfile",
         "streams": [{"asset": "a", "stream_type": "cycle"}, {"asset": "b"}, "junk"]},
        {"data_receiver_name": "r2", "protocol": "sql", "streams": [{"asset": "a", "stream_type": "alarm"}]},
    ], "data_transmit": [{"transmit_name": "t", "streams": [{"asset": "z", "stream_type": "z"}]}]}
    streams = configured_streams(config)
    assert streams == [ConfiguredStream("r1", "a", "cycle"), ConfiguredStream("r2", "a", "alarm")]
    assert streams[0].stream == "a:cycle"
