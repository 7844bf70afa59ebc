"""The offline demo: sample orders, one request of each kind, two worker passes."""
