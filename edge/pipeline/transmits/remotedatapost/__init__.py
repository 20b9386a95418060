"""remotedatapost transmit: posts records to a Sight Machine cloud tenant."""
