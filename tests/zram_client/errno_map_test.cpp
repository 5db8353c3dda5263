// The one map from trueno-zramd's errors to errno that trueno-zramctl and the generator share.
#include <catch2/catch.hpp>

#include <cerrno>

#include "trueno/zram_client/call_error.hpp"

using trueno::varlink::Json;
using trueno::zram_client::errno_for;

TEST_CASE("each io.trueno.zram error stands for the errno the kernel's zram would give") {
    const Json none = Json::object();
    CHECK(errno_for("io.trueno.zram.NoSuchDevice", {{"id", 3}}) == ENODEV);
    CHECK(errno_for("io.trueno.zram.DeviceExists", {{"id", 3}}) == EEXIST);
    CHECK(errno_for("io.trueno.zram.DeviceBusy", {{"id", 0}, {"reason", "active swap"}}) == EBUSY);
    CHECK(errno_for("io.trueno.zram.PermissionDenied", {{"method", "CreateDevice"}}) == EACCES);
    CHECK(errno_for("org.varlink.service.PermissionDenied", none) == EACCES);
    CHECK(errno_for("org.varlink.service.InvalidParameter", {{"parameter", "id"}}) == EINVAL);
    CHECK(errno_for("org.varlink.service.MethodNotFound", none) == EOPNOTSUPP);
    CHECK(errno_for("org.varlink.service.InterfaceNotFound", none) == EOPNOTSUPP);
    CHECK(errno_for("org.varlink.service.MethodNotImplemented", none) == EOPNOTSUPP);
}

TEST_CASE(
    "InvalidArgument and SystemError carry their errno; without a usable one, EINVAL and EIO") {
    CHECK(errno_for("io.trueno.zram.InvalidArgument", {{"errno", ERANGE}}) == ERANGE);
    CHECK(errno_for("io.trueno.zram.InvalidArgument", {{"errno", 0}}) == EINVAL);
    CHECK(errno_for("io.trueno.zram.InvalidArgument", {{"errno", "22"}}) == EINVAL);
    CHECK(errno_for("io.trueno.zram.InvalidArgument", Json::object()) == EINVAL);
    CHECK(errno_for("io.trueno.zram.SystemError", {{"errno", ENOMEM}}) == ENOMEM);
    CHECK(errno_for("io.trueno.zram.SystemError", {{"errno", -5}}) == EIO);
    CHECK(errno_for("io.trueno.zram.SystemError", Json::object()) == EIO);
}

TEST_CASE("an error this client does not know is EIO, or the errno it carries") {
    CHECK(errno_for("io.trueno.zram.SomethingNew", Json::object()) == EIO);
    CHECK(errno_for("io.trueno.zram.SomethingNew", {{"errno", ENOSPC}}) == ENOSPC);
}
