extension GroupJob {
    /// The job checked before it is queued, on the calling task, so the writer only runs
    /// statements and a bad request never costs a savepoint. A progress save comes back
    /// with its park reasons cut to their bound.
    func validated() throws(StorageError) -> GroupJob {
        switch self {
        case .create(let definition), .update(let definition):
            try GroupValidator.validate(definition)
        case .delete(let name):
            try GroupValidator.validateName(name)
        case .saveProgress(let progress):
            return .saveProgress(try GroupValidator.validate(progress))
        case .reset(let name, let checkpoint, _):
            try GroupValidator.validateName(name)
            if let checkpoint { try GroupValidator.validatePosition(checkpoint, what: "checkpoint", allowsZero: true) }
        case .defineView(let definition):
            try ViewValidator.validate(definition)
        case .dropView(let name):
            try ViewValidator.validateName(name)
        }
        return self
    }
}
