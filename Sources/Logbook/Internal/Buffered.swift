/// What a call delivered in a batch that the consumer has not taken yet, handed out one at
/// a time in the consumer's task (so events become public values there, not on the event
/// loop).
struct Buffered<Element> {
    private var elements: [Element] = []
    private var index = 0

    var isEmpty: Bool {
        self.index == self.elements.count
    }

    /// Replaces what is left with `elements`.
    mutating func refill(_ elements: [Element]) {
        self.elements = elements
        self.index = 0
    }

    /// Takes the next element; the batch is let go once its last element is taken.
    mutating func next() -> Element? {
        guard self.index < self.elements.count else { return nil }
        let element = self.elements[self.index]
        self.index += 1
        if self.index == self.elements.count {
            self.removeAll()
        }
        return element
    }

    /// Takes the next element and makes the public value of it; when `make` fails (the
    /// server sent something malformed), the rest is dropped too.
    mutating func take<Value>(_ make: (Element) throws(LogbookError) -> Value) throws(LogbookError) -> Value? {
        guard let element = self.next() else { return nil }
        do {
            return try make(element)
        } catch {
            self.removeAll()
            throw error
        }
    }

    mutating func removeAll() {
        self.elements = []
        self.index = 0
    }
}
