#if canImport(Glibc)
internal import Glibc
#endif

/// The host's users and groups (`/etc/passwd`, `/etc/group`, or whatever NSS serves): the
/// names an access file uses, and the groups a connection's user is in.
package enum SystemAccounts {
    package static let accounts = AccessRules.Accounts(userID: Self.userID(named:), groupID: Self.groupID(named:))

    package static func userID(named name: String) -> UInt32? {
        Self.withBuffer { buffer, size in
            var entry = passwd()
            var found: UnsafeMutablePointer<passwd>?
            let status = getpwnam_r(name, &entry, buffer, size, &found)
            return (status, found == nil ? nil : entry.pw_uid)
        }
    }

    package static func groupID(named name: String) -> UInt32? {
        Self.withBuffer { buffer, size in
            var entry = group()
            var found: UnsafeMutablePointer<group>?
            let status = getgrnam_r(name, &entry, buffer, size, &found)
            return (status, found == nil ? nil : entry.gr_gid)
        }
    }

    /// The user's name and primary group, if the host knows the uid.
    package static func user(_ uid: UInt32) -> (name: String, gid: UInt32)? {
        Self.withBuffer { buffer, size in
            var entry = passwd()
            var found: UnsafeMutablePointer<passwd>?
            let status = getpwuid_r(uid, &entry, buffer, size, &found)
            guard found != nil, let name = entry.pw_name else { return (status, nil) }
            return (status, (String(cString: name), entry.pw_gid))
        }
    }

    /// Every group the user is a member of: its primary group and the supplementary ones.
    package static func groups(ofUser name: String, primary gid: UInt32) -> [UInt32] {
        var count: Int32 = 32
        while true {
            var gids = [gid_t](repeating: 0, count: Int(count))
            let wanted = count
            if getgrouplist(name, gid, &gids, &count) >= 0 {
                return Array(gids.prefix(Int(count)))
            }
            // Too small: `count` now says how many there are.
            if count <= wanted { count = wanted * 2 }
        }
    }

    /// Runs a `get…_r` call with a buffer that grows while it answers ERANGE.
    private static func withBuffer<T>(_ body: (UnsafeMutablePointer<CChar>, Int) -> (Int32, T?)) -> T? {
        var size = 1024
        while size <= 1 << 20 {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buffer.deallocate() }
            let (status, value) = body(buffer, size)
            if status == ERANGE {
                size *= 2
                continue
            }
            return value
        }
        return nil
    }
}
