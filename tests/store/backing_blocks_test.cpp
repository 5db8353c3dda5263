// The backing device's block packing: objects share blocks, a block is reused only once every
// object in it is gone, sparse blocks are found for repacking, and the bookkeeping rebuilt from
// the slots after a take-over hands out the same free blocks.
#include "backing_blocks.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>
#include <random>
#include <set>

using namespace trueno::store;

namespace {

// Every placed object lies in the plan's blocks (one, or the tail of one and the head of the
// next), and no two objects overlap on the device.
void check_no_overlap(const BackingPlan& plan) {
    auto taken = [&](std::uint64_t block) {
        return std::find(plan.blocks.begin(), plan.blocks.end(), block) != plan.blocks.end();
    };
    for (const auto& at : plan.placed) {
        if (!at)
            continue;
        REQUIRE(at->offset < kBackingBlockBytes);
        REQUIRE(at->size <= kBackingBlockBytes);
        for (const auto& part : backing_parts(*at))
            if (part.bytes != 0)
                REQUIRE(taken(part.block));
    }
    for (std::size_t i = 0; i < plan.placed.size(); ++i)
        for (std::size_t j = i + 1; j < plan.placed.size(); ++j) {
            const auto& a = plan.placed[i];
            const auto& b = plan.placed[j];
            if (!a || !b)
                continue;
            const std::uint64_t a0 = a->block * kBackingBlockBytes + a->offset;
            const std::uint64_t b0 = b->block * kBackingBlockBytes + b->offset;
            const bool apart = a0 + a->size <= b0 || b0 + b->size <= a0;
            REQUIRE(apart);
        }
}

} // namespace

TEST_CASE("objects are packed several to a block, largest first, and go on into the next block",
          "[backing]") {
    BackingBlocks blocks(100);
    // Three objects of a third of a block, one of 3000 bytes, a 4096-byte (raw) page.
    const std::vector<std::uint32_t> sizes = {1300, 3000, 1300, 4096, 1300};
    BackingPlan plan = blocks.plan(sizes);
    check_no_overlap(plan);
    REQUIRE(std::all_of(plan.placed.begin(), plan.placed.end(),
                        [](const auto& p) { return p.has_value(); }));
    // 4096 | 3000 + the head of a 1300 | its tail + 1300 + 1300: three blocks, where one object
    // per block (the kernel's) takes five.
    CHECK(plan.blocks == std::vector<std::uint64_t>{0, 1, 2});
    CHECK(plan.placed[3]->block == 0);
    CHECK((plan.placed[1]->block == 1 && plan.placed[1]->offset == 0));
    CHECK((plan.placed[0]->block == 1 && plan.placed[0]->offset == 3000)); // spans blocks 1 and 2
    CHECK(backing_span(*plan.placed[0]) == 2);
    CHECK((plan.placed[2]->block == 2 && plan.placed[2]->offset == 1300 - 1096));
    for (const auto& at : plan.placed)
        blocks.commit(*at);
    blocks.finish(plan);
    CHECK(blocks.used_blocks() == 3);
    CHECK(blocks.live_bytes() == 1300 * 3 + 3000 + 4096);
    // Releasing the spanning object leaves both of its blocks in use by the others.
    CHECK(blocks.release(*plan.placed[0]));
    CHECK(blocks.used_blocks() == 3);
    CHECK(blocks.release(*plan.placed[1]));
    CHECK(blocks.used_blocks() == 2); // block 1 is empty now
}

TEST_CASE("an object goes on into the next block only when that one follows on the device",
          "[backing]") {
    BackingBlocks blocks(10);
    // Blocks 0..2 taken, then block 1 freed: the free ones are 1, 3, 4 ...
    BackingPlan first = blocks.plan(std::vector<std::uint32_t>{4096, 4096, 4096});
    for (const auto& at : first.placed)
        blocks.commit(*at);
    blocks.finish(first);
    CHECK(blocks.release(*first.placed[1]));
    // 3000 in block 1; the next 3000 cannot span into 3 (not 2): it starts block 3; the third
    // spans 3's tail and 4's head.
    BackingPlan plan = blocks.plan(std::vector<std::uint32_t>{3000, 3000, 3000});
    check_no_overlap(plan);
    CHECK(plan.blocks == std::vector<std::uint64_t>{1, 3, 4});
    CHECK((plan.placed[0]->block == 1 && plan.placed[0]->offset == 0));
    CHECK((plan.placed[1]->block == 3 && plan.placed[1]->offset == 0));
    CHECK((plan.placed[2]->block == 3 && plan.placed[2]->offset == 3000));
}

TEST_CASE("a block is free again only when its last object goes, and is reused lowest first",
          "[backing]") {
    BackingBlocks blocks(10);
    const std::vector<std::uint32_t> sizes(8, 2048); // two per block: blocks 0..3
    BackingPlan plan = blocks.plan(sizes);
    REQUIRE(plan.blocks == std::vector<std::uint64_t>{0, 1, 2, 3});
    for (const auto& at : plan.placed)
        blocks.commit(*at);
    blocks.finish(plan);

    // One of block 1's two objects goes: the block stays in use.
    std::vector<BackingLocation> in1;
    for (const auto& at : plan.placed)
        if (at->block == 1)
            in1.push_back(*at);
    REQUIRE(in1.size() == 2);
    CHECK(blocks.release(in1[0]));
    CHECK(blocks.used_blocks() == 4);
    CHECK(blocks.plan(std::vector<std::uint32_t>{100}).blocks == std::vector<std::uint64_t>{4});
    // (That plan is dropped: nothing was committed, its block is free again.)
    blocks.finish(BackingPlan{{}, {4}});
    // Releasing the same object twice is refused; the last one frees block 1.
    CHECK(blocks.release(in1[1]));
    CHECK(!blocks.release(in1[1]));
    CHECK(blocks.used_blocks() == 3);
    BackingPlan next = blocks.plan(std::vector<std::uint32_t>{4096, 4096});
    CHECK(next.blocks == std::vector<std::uint64_t>{1, 4});
}

TEST_CASE(
    "blocks reserved by a plan are not handed out twice, and come back if nothing is committed",
    "[backing]") {
    BackingBlocks blocks(3);
    BackingPlan first = blocks.plan(std::vector<std::uint32_t>{4096, 4096});
    BackingPlan second = blocks.plan(std::vector<std::uint32_t>{4096, 4096});
    CHECK(first.blocks == std::vector<std::uint64_t>{0, 1});
    CHECK(second.blocks == std::vector<std::uint64_t>{2});
    // The device is full: the second object of the second plan has no place.
    CHECK(second.placed[0].has_value() != second.placed[1].has_value());
    blocks.commit(*first.placed[0]);
    blocks.finish(first);
    blocks.finish(second);
    CHECK(blocks.used_blocks() == 1);
    CHECK(blocks.plan(std::vector<std::uint32_t>{10, 4096, 4096}).blocks.size() == 2);
}

TEST_CASE("sparse blocks are listed for repacking", "[backing]") {
    BackingBlocks blocks(10);
    BackingPlan plan = blocks.plan(std::vector<std::uint32_t>{1000, 1000, 1000, 1000, 4096});
    for (const auto& at : plan.placed)
        blocks.commit(*at);
    blocks.finish(plan);
    CHECK(blocks.sparse_blocks(2048, 10).empty());
    // Three of the four 1000-byte objects go: their block holds 1000 live bytes.
    int released = 0;
    std::uint64_t sparse = 0;
    for (const auto& at : plan.placed)
        if (at->size == 1000 && released < 3) {
            sparse = at->block;
            CHECK(blocks.release(*at));
            ++released;
        }
    CHECK(blocks.sparse_blocks(2048, 10) == std::vector<std::uint64_t>{sparse});
    CHECK(blocks.sparse_blocks(999, 10).empty());
}

TEST_CASE("bookkeeping rebuilt from the slots matches what was packed, free blocks included",
          "[backing]") {
    std::mt19937 rng(7);
    BackingBlocks live(64);
    std::vector<BackingLocation> held;
    for (int round = 0; round < 20; ++round) {
        std::vector<std::uint32_t> sizes(1 + rng() % 12);
        for (auto& s : sizes)
            s = 1 + rng() % 4096;
        BackingPlan plan = live.plan(sizes);
        check_no_overlap(plan);
        for (const auto& at : plan.placed)
            if (at && rng() % 4 != 0) { // some objects changed meanwhile: not committed
                live.commit(*at);
                held.push_back(*at);
            }
        live.finish(plan);
        // Rewrites and discards free some.
        std::shuffle(held.begin(), held.end(), rng);
        for (std::size_t n = held.size() / 3; n > 0; --n) {
            CHECK(live.release(held.back()));
            held.pop_back();
        }
    }
    BackingBlocks rebuilt(64);
    for (const auto& at : held)
        REQUIRE(rebuilt.add_live(at));
    rebuilt.end_rebuild();
    CHECK(rebuilt.used_blocks() == live.used_blocks());
    CHECK(rebuilt.live_bytes() == live.live_bytes());
    const std::vector<std::uint32_t> probe(8, 4096);
    CHECK(rebuilt.plan(probe).blocks == live.plan(probe).blocks);
    // Impossible places are refused: outside the device, running off its end, larger than a
    // page, an offset past the block, an overfull block.
    CHECK(!rebuilt.add_live({64, 0, 10}));
    CHECK(!rebuilt.add_live({63, 4000, 200}));
    CHECK(!rebuilt.add_live({0, 0, 5000}));
    CHECK(!rebuilt.add_live({0, 4096, 1}));
    BackingBlocks full(2);
    CHECK(full.add_live({0, 0, 4096}));
    CHECK(!full.add_live({0, 0, 1}));
}
