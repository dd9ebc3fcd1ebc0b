/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef MAC_OWNERS_H
#define MAC_OWNERS_H 1

/* One MAC, one owner per network.
 *
 * A frame to a port's own MAC goes to one vNIC: the L2 lookup flow of
 * (network key, MAC) has one output.  The Tenant DB validator refuses two
 * ports of a network with one MAC, and a port whose MAC is another port's
 * allowed-address MAC, but the Tenant DB can be written by anything, so
 * the controller decides too, among the vNICs of its host.  Only an
 * allowed-address MAC may be shared (a VRRP pair): a frame to it goes to
 * every vNIC of the host that may have it (local-nets.c).
 *
 * Every vNIC whose rows are otherwise valid bids for the L2 addresses it
 * wants on its network: its own MAC and the MACs of its allowed addresses,
 * compared as addresses (so in any case).  For each address that some bid
 * wants as its own MAC, the bids that want it are ranked:
 *
 *   1. a port's own MAC before another port's allowed-address MAC;
 *   2. then by Port name, in byte order (strcmp());
 *   3. then by Port UUID (names are unique within one Network row, but
 *      two Network rows may have one key if written past the validator).
 *
 * A bid wins if it comes first for every such address it wants (two
 * bids that want an address only as an allowed-address MAC both have it);
 * a vNIC that loses one address is refused as a whole.  A losing bid stays
 * in place: it still ranks against the others for its other addresses.
 * So the verdict on a bid depends only on the bids that share an address
 * with it, never on the order in which they came, nor on their own
 * verdicts: it is the same whatever the order of binding and after a
 * restart, and a change to one bid needs only the bids that share an
 * address with it (before or after the change) judged again, which
 * mac_owners_take_touched() returns.  (In a chain of clashes an address
 * may then go to nobody on this host: a frame to it is unknown unicast.)
 *
 * The module knows nothing of vNICs: the caller embeds a struct mac_bid in
 * whatever bids, and finds it back from the touched set with
 * CONTAINER_OF(). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hmapx.h"
#include "openvswitch/hmap.h"
#include "packets.h"
#include "uuid.h"

struct mac_bid;

/* One address that one bid wants. */
struct mac_claim {
    struct hmap_node node;      /* In 'claims' of struct mac_owners, by
                                 * network key and MAC. */
    struct mac_bid *bid;        /* The bid it is part of. */
    struct eth_addr mac;        /* The address. */
    bool own;                   /* The port's own MAC, not an allowed
                                 * address's. */
};

/* What one vNIC wants.  Zero-initialized (or mac_bid_init()) means no bid
 * in place. */
struct mac_bid {
    char *port;                 /* Port name (second rank), or NULL. */
    struct uuid port_uuid;      /* Port row (third rank). */
    char *network;              /* Network name, for messages. */
    uint32_t net_key;           /* Network key: addresses compete only
                                 * within one. */
    struct mac_claim *claims;   /* Own MAC first, then the allowed
                                 * addresses' MACs, without duplicates. */
    size_t n_claims;            /* Number of 'claims'; 0: no bid. */
};

/* Every bid in place. */
struct mac_owners {
    struct hmap claims;         /* struct mac_claim, by network key and
                                 * MAC. */
    struct hmapx touched;       /* struct mac_bid * to judge again. */
};

void mac_owners_init(struct mac_owners *);
void mac_owners_destroy(struct mac_owners *);

void mac_bid_init(struct mac_bid *);
bool mac_bid_is_placed(const struct mac_bid *);

bool mac_owners_bid(struct mac_owners *, struct mac_bid *,
                    const char *port, const struct uuid *port_uuid,
                    const char *network, uint32_t net_key,
                    struct eth_addr own, const struct eth_addr *allowed,
                    size_t n_allowed);
void mac_owners_withdraw(struct mac_owners *, struct mac_bid *);
bool mac_owners_is_claimed(const struct mac_owners *, uint32_t net_key,
                           struct eth_addr);
char *mac_owners_judge(const struct mac_owners *, const struct mac_bid *);
void mac_owners_take_touched(struct mac_owners *, struct hmapx *);

#endif /* mac-owners.h */
