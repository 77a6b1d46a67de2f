// doctest's runner. Kept free of torch headers (and out of the precompiled header, which would
// pull doctest in before DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN is defined).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
