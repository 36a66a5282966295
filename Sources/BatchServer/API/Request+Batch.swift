import BatchCore
import BatchStore
import Vapor

extension Request {
    /// The batch named by the `:id` route parameter, if the account may see it (404 otherwise); with `toChange`,
    /// the account must also hold the capability of the batch's kind (403 otherwise). Used by the API and the pages.
    func batchParameter(for account: Account, toChange: Bool = false) async throws -> Batch {
        guard let id = parameters.get("id"), let batch = try await store.batch(BatchID(rawValue: id), visibleTo: account)
        else { throw AppError.notFound("No such batch among those you can see.") }
        if toChange, !account.can(batch.kind.capability) { throw AppError.forbidden }
        return batch
    }
}
