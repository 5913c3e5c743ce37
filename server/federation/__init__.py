"""Talking to peer servers: the signed peer client and the federator that pushes and pulls."""
