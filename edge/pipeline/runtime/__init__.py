"""The running pipeline: scheduler, service threads, component context, historian sink, restream."""
