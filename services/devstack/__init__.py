"""`make run`: the whole system on one machine, with an embedded broker and a demo story."""
