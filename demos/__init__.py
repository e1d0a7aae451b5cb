"""Runnable demos that answer the classic backprop questions with gradstep's engine."""
