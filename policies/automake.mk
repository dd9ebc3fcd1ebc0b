# Policy documents: model, parser (jansson), validator, printer.
noinst_LIBRARIES += policies/libpolicy.a
policies_libpolicy_a_SOURCES = \
	policies/json-pos.c \
	policies/json-pos.h \
	policies/policy.c \
	policies/policy.h \
	policies/policy-json.c \
	policies/policy-validate.c

