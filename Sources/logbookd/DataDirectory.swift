#if canImport(Glibc)
internal import Glibc
#endif

/// The data at rest is the daemon's alone: whoever can read the files reads every event,
/// around any access rules. So the daemon's files are made for its own user (umask 077),
/// and a data directory that other users can enter is refused at start, as PostgreSQL
/// refuses its own. `--allow-group-read` lets the directory's group read it (umask 027,
/// directory 0750), for a backup user; nobody else, and no group write, ever.
enum DataDirectory {
    /// Sets the process's umask for every file and directory the daemon makes from here on.
    static func restrictNewFiles(allowGroupRead: Bool) {
        umask(allowGroupRead ? 0o027 : 0o077)
    }

    /// Why `path` may not hold the data, or nil when it may (or does not exist yet, and will
    /// be made under the umask).
    static func refusal(_ path: String, allowGroupRead: Bool) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let mode = info.st_mode & 0o777
        let forbidden: mode_t = allowGroupRead ? 0o027 : 0o077
        guard mode & forbidden != 0 else { return nil }
        let octal = String(mode, radix: 8)
        let who = mode & 0o007 != 0 ? "every user of the host" : "its group"
        let fix = allowGroupRead ? "chmod 750 \(path)" : "chmod 700 \(path) (or start with --allow-group-read to let its group read it, mode 750)"
        return "the data directory \(path) has mode \(octal): \(who) could read or change every event, around any access rules; \(fix)"
    }
}
