// Types layer placeholder until types.cc lands.
