/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/mac-owners.h"

#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "util.h"

/* Initializes 'mo' with no bids. */
void
mac_owners_init(struct mac_owners *mo)
{
    hmap_init(&mo->claims);
    hmapx_init(&mo->touched);
}

/* Frees what 'mo' holds.  The bids are the caller's: it withdraws them
 * first, or frees them without using 'mo' again. */
void
mac_owners_destroy(struct mac_owners *mo)
{
    hmap_destroy(&mo->claims);
    hmapx_destroy(&mo->touched);
}

/* Initializes 'bid' as no bid. */
void
mac_bid_init(struct mac_bid *bid)
{
    memset(bid, 0, sizeof *bid);
}

/* Returns true if 'bid' is in place. */
bool
mac_bid_is_placed(const struct mac_bid *bid)
{
    return bid->n_claims > 0;
}

/* Returns the hash of address 'mac' on network 'net_key'. */
static uint32_t
claim_hash(uint32_t net_key, struct eth_addr mac)
{
    return hash_uint64_basis(eth_addr_to_uint64(mac), net_key);
}

/* Returns true if 'a' and 'b' are claims on one address of one network. */
static bool
same_address(const struct mac_claim *a, const struct mac_claim *b)
{
    return (a->bid->net_key == b->bid->net_key
            && eth_addr_equals(a->mac, b->mac));
}

/* Returns true if a vNIC of this host bids for address 'mac' on network
 * 'net_key'. */
bool
mac_owners_is_claimed(const struct mac_owners *mo, uint32_t net_key,
                      struct eth_addr mac)
{
    const struct mac_claim *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, claim_hash(net_key, mac), &mo->claims) {
        if (c->bid->net_key == net_key && eth_addr_equals(c->mac, mac)) {
            return true;
        }
    }
    return false;
}

/* Returns true if claim 'a' comes before claim 'b' on their address: own
 * MAC first, then Port name, then Port UUID. */
static bool
claim_before(const struct mac_claim *a, const struct mac_claim *b)
{
    if (a->own != b->own) {
        return a->own;
    }
    int cmp = strcmp(a->bid->port, b->bid->port);
    if (cmp) {
        return cmp < 0;
    }
    return uuid_compare_3way(&a->bid->port_uuid, &b->bid->port_uuid) < 0;
}

/* Adds to 'mo''s touched set every bid but 'c''s own that claims 'c''s
 * address. */
static void
touch_rivals(struct mac_owners *mo, const struct mac_claim *c)
{
    const struct mac_claim *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, c->node.hash, &mo->claims) {
        if (r->bid != c->bid && same_address(r, c)) {
            hmapx_add(&mo->touched, r->bid);
        }
    }
}

/* Removes the claims of 'bid' from 'mo' and frees what 'bid' holds,
 * leaving no bid; touches the rivals of each claim. */
static void
remove_claims(struct mac_owners *mo, struct mac_bid *bid)
{
    for (size_t i = 0; i < bid->n_claims; i++) {
        touch_rivals(mo, &bid->claims[i]);
        hmap_remove(&mo->claims, &bid->claims[i].node);
    }
    free(bid->claims);
    free(bid->port);
    free(bid->network);
    mac_bid_init(bid);
}

/* Returns true if 'bid' already is what the arguments of mac_owners_bid()
 * describe. */
static bool
bid_equals(const struct mac_bid *bid, const char *port,
           const struct uuid *port_uuid, const char *network,
           uint32_t net_key, const struct eth_addr *macs, size_t n_macs)
{
    if (!mac_bid_is_placed(bid) || strcmp(bid->port, port)
        || !uuid_equals(&bid->port_uuid, port_uuid)
        || strcmp(bid->network, network) || bid->net_key != net_key
        || bid->n_claims != n_macs) {
        return false;
    }
    for (size_t i = 0; i < n_macs; i++) {
        if (!eth_addr_equals(bid->claims[i].mac, macs[i])) {
            return false;
        }
    }
    return true;
}

/* Puts in place, or replaces, 'bid': Port 'port' (with 'port_uuid') on
 * network 'network' (key 'net_key') wants its own MAC 'own' and the
 * 'n_allowed' MACs of its allowed addresses, 'allowed' (duplicates and its
 * own MAC among them are ignored).  Returns true if the bid changed; then
 * every other bid that shares an address with the old bid or the new one
 * is touched. */
bool
mac_owners_bid(struct mac_owners *mo, struct mac_bid *bid, const char *port,
               const struct uuid *port_uuid, const char *network,
               uint32_t net_key, struct eth_addr own,
               const struct eth_addr *allowed, size_t n_allowed)
{
    struct eth_addr *macs = xmalloc((n_allowed + 1) * sizeof *macs);
    size_t n_macs = 0;

    macs[n_macs++] = own;
    for (size_t i = 0; i < n_allowed; i++) {
        bool seen = false;
        for (size_t j = 0; !seen && j < n_macs; j++) {
            seen = eth_addr_equals(macs[j], allowed[i]);
        }
        if (!seen) {
            macs[n_macs++] = allowed[i];
        }
    }

    bool changed = !bid_equals(bid, port, port_uuid, network, net_key, macs,
                               n_macs);
    if (changed) {
        remove_claims(mo, bid);
        bid->port = xstrdup(port);
        bid->port_uuid = *port_uuid;
        bid->network = xstrdup(network);
        bid->net_key = net_key;
        bid->claims = xcalloc(n_macs, sizeof *bid->claims);
        bid->n_claims = n_macs;
        for (size_t i = 0; i < n_macs; i++) {
            struct mac_claim *c = &bid->claims[i];
            c->bid = bid;
            c->mac = macs[i];
            c->own = !i;
            hmap_insert(&mo->claims, &c->node, claim_hash(net_key, c->mac));
            touch_rivals(mo, c);
        }
    }
    free(macs);
    return changed;
}

/* Withdraws 'bid', if it is in place: every bid that shared an address with
 * it is touched.  'bid' itself leaves the touched set, so that its owner may
 * free it. */
void
mac_owners_withdraw(struct mac_owners *mo, struct mac_bid *bid)
{
    remove_claims(mo, bid);
    hmapx_find_and_delete(&mo->touched, bid);
}

/* Returns NULL if 'bid' comes first for every address it wants (an
 * address that it and its rivals want only as allowed-address MACs is
 * everyone's), otherwise a message (which the caller frees) that names the
 * first address it loses and the port that comes first for it. */
char *
mac_owners_judge(const struct mac_owners *mo, const struct mac_bid *bid)
{
    for (size_t i = 0; i < bid->n_claims; i++) {
        const struct mac_claim *c = &bid->claims[i];
        const struct mac_claim *best = NULL;
        const struct mac_claim *r;

        HMAP_FOR_EACH_WITH_HASH (r, node, c->node.hash, &mo->claims) {
            /* Two allowed-address claims share the address. */
            if (r->bid != bid && same_address(r, c) && (r->own || c->own)
                && claim_before(r, c)
                && (!best || claim_before(r, best))) {
                best = r;
            }
        }
        if (!best) {
            continue;
        }
        if (best->own && !c->own) {
            return xasprintf("allowed address MAC "ETH_ADDR_FMT" is the MAC "
                             "of port \"%s\" on network \"%s\"",
                             ETH_ADDR_ARGS(c->mac), best->bid->port,
                             bid->network);
        }
        return xasprintf("MAC "ETH_ADDR_FMT" is also the MAC of port \"%s\" "
                         "on network \"%s\", which comes first by %s",
                         ETH_ADDR_ARGS(c->mac), best->bid->port, bid->network,
                         strcmp(best->bid->port, bid->port)
                         ? "port name" : "Port UUID");
    }
    return NULL;
}

/* Moves the touched bids (struct mac_bid *) into 'touched', an initialized
 * hmapx, and forgets them. */
void
mac_owners_take_touched(struct mac_owners *mo, struct hmapx *touched)
{
    struct hmapx_node *node;

    HMAPX_FOR_EACH (node, &mo->touched) {
        hmapx_add(touched, node->data);
    }
    hmapx_clear(&mo->touched);
    hmap_shrink(&mo->touched.map);  /* Grown by a cold start. */
}
