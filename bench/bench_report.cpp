#include "bench_report.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace trueno::bench {
namespace {

// Rounds for output: enough digits to be useful, no false precision.
double rounded(double v, int digits) {
    double scale = std::pow(10.0, digits);
    return std::round(v * scale) / scale;
}

nlohmann::json latency_or_null(const std::optional<LatencySummary>& lat, double LatencySummary::*field) {
    if (!lat) return nullptr;
    return rounded((*lat).*field, 2);
}

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

std::string latency_text(const std::optional<LatencySummary>& lat, double LatencySummary::*field) {
    return lat ? fixed((*lat).*field, 2) + " us" : std::string("n/a (batch writes)");
}

} // namespace

nlohmann::json report_json(const BenchSetup& setup, const BenchResult& r) {
    nlohmann::json j;
    j["input"] = setup.input;
    j["algorithm"] = setup.algorithm;
    j["params"] = setup.params;
    j["level"] = setup.level;
    j["threads"] = setup.threads;
    j["write_mode"] = setup.write_mode;
    j["disksize"] = setup.disksize;
    j["pages"] = r.pages;
    j["orig_data_size"] = r.mm.orig_data_size;
    j["compr_data_size"] = r.mm.compr_data_size;
    j["mem_used_total"] = r.mm.mem_used_total;
    j["same_pages"] = r.mm.same_pages;
    j["huge_pages"] = r.mm.huge_pages;
    j["ratio"] = rounded(r.ratio(), 4);
    j["write_seconds"] = rounded(r.write.seconds, 6);
    j["read_seconds"] = rounded(r.read.seconds, 6);
    j["write_mb_s"] = rounded(r.write_mb_s(), 1);
    j["read_mb_s"] = rounded(r.read_mb_s(), 1);
    j["read_p50_us"] = latency_or_null(r.read.latency, &LatencySummary::p50_us);
    j["read_p99_us"] = latency_or_null(r.read.latency, &LatencySummary::p99_us);
    j["read_max_us"] = latency_or_null(r.read.latency, &LatencySummary::max_us);
    j["write_p50_us"] = latency_or_null(r.write.latency, &LatencySummary::p50_us);
    j["write_p99_us"] = latency_or_null(r.write.latency, &LatencySummary::p99_us);
    j["allocator_overhead_pct"] = rounded(r.allocator_overhead_pct(), 2);
    j["failed_reads"] = r.io.failed_reads;
    j["failed_writes"] = r.io.failed_writes;
    if (r.recompress) {
        const auto& rc = *r.recompress;
        j["recompress"] = rc.policy;
        j["recompress_level"] = rc.level;
        j["recompress_group_pages"] = rc.group_pages;
        j["recompress_dedup"] = rc.dedup;
        j["grouped_pages"] = rc.objects.grouped_pages;
        j["groups"] = rc.objects.groups;
        j["dedup_pages"] = rc.objects.dedup_pages;
        j["ratio_before_recompress"] = rounded(rc.ratio_before, 4);
        j["recompress_mb_s"] = rounded(rc.mb_s_per_core(), 1);
        j["recompress_seconds"] = rounded(rc.seconds, 3);
        j["recompress_cpu_seconds"] = rounded(rc.report.cpu_seconds, 3);
        j["recompress_pages_tried"] = rc.report.tried;
        j["recompress_pages_kept"] = rc.report.kept;
        j["read_p99_us_during_recompress"] = latency_or_null(rc.read_latency, &LatencySummary::p99_us);
        j["read_max_us_during_recompress"] = latency_or_null(rc.read_latency, &LatencySummary::max_us);
    }
    if (r.writeback) {
        const auto& wb = *r.writeback;
        j["writeback_device"] = wb.device;
        j["writeback_pages"] = wb.report.pages;
        j["writeback_blocks"] = wb.report.blocks;
        j["writeback_bytes"] = wb.report.bytes;
        j["writeback_blocks_per_page"] = rounded(wb.blocks_per_page(), 4);
        j["writeback_seconds"] = rounded(wb.seconds, 3);
        j["mem_used_total_before_writeback"] = wb.before.mem_used_total;
        j["mem_used_total_after_writeback"] = wb.after.mem_used_total;
        if (wb.repack) {
            const auto& rp = *wb.repack;
            j["repack_rewritten_pages"] = rp.rewritten;
            j["repack_blocks_before"] = rp.before.used_blocks;
            j["repack_blocks_after"] = rp.after.used_blocks;
            j["repack_live_bytes"] = rp.after.live_bytes;
            j["repack_objects_moved"] = rp.report.objects;
            j["repack_blocks_read"] = rp.report.blocks_read;
            j["repack_blocks_written"] = rp.report.blocks_written;
            j["repack_seconds"] = rounded(rp.seconds, 3);
        }
    }
    j["verified"] = !r.first_bad_page.has_value();
    if (r.first_bad_page) {
        j["first_bad_page"] = *r.first_bad_page;
        j["error"] = r.failure;
    }
    return j;
}

std::string report_table(const BenchSetup& s, const BenchResult& r) {
    std::ostringstream out;
    // No fixed-size buffer: a long value (the repack row) is printed whole.
    auto row = [&](const std::string& name, const std::string& value) {
        out << "  " << name << std::string(name.size() < 24 ? 24 - name.size() : 0, ' ') << ' '
            << value << '\n';
    };
    out << "trueno-zram-bench: " << s.input << "\n";
    row("algorithm", s.algorithm + (s.params.empty() ? "" : " (" + s.params + ")") + ", level " + std::to_string(s.level));
    row("threads", std::to_string(s.threads) + " (" + s.write_mode + " writes)");
    row("pages", std::to_string(r.pages) + " (" + fixed(static_cast<double>(r.mm.orig_data_size) / 1048576.0, 1) + " MiB)");
    row("orig_data_size", std::to_string(r.mm.orig_data_size));
    row("compr_data_size", std::to_string(r.mm.compr_data_size));
    row("mem_used_total", std::to_string(r.mm.mem_used_total));
    row("same_pages", std::to_string(r.mm.same_pages));
    row("huge_pages", std::to_string(r.mm.huge_pages));
    row("ratio (orig/mem_used)", fixed(r.ratio(), 4));
    row("allocator overhead", fixed(r.allocator_overhead_pct(), 2) + " %");
    row("write", fixed(r.write_mb_s(), 1) + " MB/s (" + fixed(r.write.seconds, 3) + " s)");
    row("write p50 / p99", latency_text(r.write.latency, &LatencySummary::p50_us) + " / " +
                               latency_text(r.write.latency, &LatencySummary::p99_us));
    row("read", fixed(r.read_mb_s(), 1) + " MB/s (" + fixed(r.read.seconds, 3) + " s)");
    row("read p50 / p99 / max", latency_text(r.read.latency, &LatencySummary::p50_us) + " / " +
                                    latency_text(r.read.latency, &LatencySummary::p99_us) + " / " +
                                    latency_text(r.read.latency, &LatencySummary::max_us));
    if (r.recompress) {
        const auto& rc = *r.recompress;
        row("recompress", rc.policy + " (zstd " + std::to_string(rc.level) + ", groups of " +
                              std::to_string(rc.group_pages) + (rc.dedup ? ", dedup" : "") + "): ratio " + fixed(rc.ratio_before, 4) + " -> " + fixed(r.ratio(), 4));
        row("recompressed", std::to_string(rc.report.kept) + " of " + std::to_string(rc.report.tried) +
                                " pages kept, " + fixed(rc.mb_s_per_core(), 1) + " MB/s per core (" +
                                fixed(rc.report.cpu_seconds, 3) + " CPU s, " + fixed(rc.seconds, 3) + " s)");
        row("read p99 / max meanwhile", latency_text(rc.read_latency, &LatencySummary::p99_us) + " / " +
                                            latency_text(rc.read_latency, &LatencySummary::max_us));
    }
    if (r.writeback) {
        const auto& wb = *r.writeback;
        row("writeback", std::to_string(wb.report.pages) + " pages to " + wb.device + " in " +
                             std::to_string(wb.report.blocks) + " blocks (" +
                             fixed(wb.blocks_per_page(), 3) + " per page; kernel zram: 1), " +
                             fixed(wb.seconds, 3) + " s");
        row("mem_used_total", std::to_string(wb.before.mem_used_total) + " -> " +
                                  std::to_string(wb.after.mem_used_total) +
                                  (wb.repack ? " (the reads below: the rewritten pages from RAM, "
                                               "the rest from the device)"
                                             : " (reads below come from the device)"));
        if (wb.repack) {
            const auto& rp = *wb.repack;
            const std::uint64_t needed = (rp.after.live_bytes + 4095) / 4096;
            row("repack", std::to_string(rp.rewritten) + " pages rewritten; blocks in use " +
                              std::to_string(rp.before.used_blocks) + " -> " +
                              std::to_string(rp.after.used_blocks) + " (fewest possible " +
                              std::to_string(needed) + "): " + std::to_string(rp.report.objects) +
                              " objects moved, " + std::to_string(rp.report.blocks_read) +
                              " blocks read, " + std::to_string(rp.report.blocks_written) +
                              " written, " + fixed(rp.seconds, 3) + " s");
        }
    }
    row("verified", r.first_bad_page ? "NO: page " + std::to_string(*r.first_bad_page) + ": " + r.failure
                                     : "every page read back identical");
    return out.str();
}

} // namespace trueno::bench
