"""Private core: turns Keras layer objects into one `hk.transform_with_state`."""
