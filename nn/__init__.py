"""Neural-network building blocks made only of `autograd.Value` operations."""
