"""Sessions shared by several server processes through a bus (Redis).

Enabled by the servers' ``cluster`` option; nothing here is imported
without it.  The protocol of the bus is :mod:`engineio.sansio.cluster`;
:mod:`.redis_bus` moves its messages, :mod:`.async_node` and
:mod:`.sync_node` drive it for :class:`~engineio.AsyncServer` and
:class:`~engineio.Server`.  See docs/scaling.md.
"""
