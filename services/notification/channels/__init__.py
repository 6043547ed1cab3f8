"""Delivery channels: each turns a `Notice` into one request to one receiver, or says why it could not."""
