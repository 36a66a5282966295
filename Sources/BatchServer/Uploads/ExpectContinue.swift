import NIOCore
import NIOHTTP1
import Vapor

/// Answers `Expect: 100-continue`, which Vapor 4 does not: curl sends it for every upload over 1 MB (and for
/// every PUT of a file) and then waits a whole second before it sends the body.
///
/// The answer has to come from the connection, not from a route: Vapor calls a route only once the first body
/// bytes have arrived, which the client holds back until it hears `100 Continue`. A body that is too large is
/// still refused with 413 after its first chunk, and a client that sees the 413 stops sending.
///
/// Sits between NIO's HTTP decoder and Vapor's handlers and writes `100 Continue` for a request that expects it,
/// when it is the only request in flight on the connection (so it cannot overtake an earlier response).
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Requests received minus responses finished.
    private var inFlight = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            inFlight += 1
            if head.version == .http1_1, inFlight == 1,
                head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" })
            {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { inFlight = max(0, inFlight - 1) }
        context.write(data, promise: promise)
    }
}

/// Adds an `ExpectContinueHandler` to every connection the server accepts.
///
/// Vapor 4 offers no hook into its connection pipeline, so this finds the listening channel through reflection
/// (`HTTPServer.connection.channel`) and adds a handler there that equips each accepted connection once its
/// HTTP handlers are in place. If a Vapor update moves that field, the server still runs and logs a warning;
/// uploads from curl then wait one second (`make test` checks that they don't).
enum ExpectContinueInstaller {
    static func install(on app: Application) {
        guard let server = app.http.server.shared as HTTPServer?,
            let channel = serverChannel(of: server)
        else {
            app.logger.warning("Could not add 100-continue support to the HTTP server; curl uploads will wait 1 s.")
            return
        }
        channel.pipeline.addHandler(AcceptHook(), position: .first).whenFailure { error in
            app.logger.warning("Could not add 100-continue support: \(error)")
        }
    }

    static func serverChannel(of server: HTTPServer) -> (any Channel)? {
        func child(_ value: Any, _ label: String) -> Any? {
            var mirror: Mirror? = Mirror(reflecting: value)
            while let current = mirror {
                if let found = current.children.first(where: { $0.label == label }) { return found.value }
                mirror = current.superclassMirror
            }
            return nil
        }
        func unwrap(_ value: Any) -> Any? {
            let mirror = Mirror(reflecting: value)
            guard mirror.displayStyle == .optional else { return value }
            return mirror.children.first?.value
        }
        guard let box = child(server, "connection"), let storage = child(box, "_storage"),
            let header = child(storage, "header"), let connection = unwrap(header),
            let channel = child(connection, "channel")
        else { return nil }
        return channel as? any Channel
    }

    /// On the listening channel: sees each accepted connection before Vapor sets it up.
    final class AcceptHook: ChannelInboundHandler, Sendable {
        typealias InboundIn = any Channel

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let child = unwrapInboundIn(data)
            // Queued on the connection's event loop before Vapor's own set-up, so it runs first and waits there
            // for the connection to become active, by which time Vapor's HTTP handlers are in place.
            child.pipeline.addHandler(Equipper(), position: .first).whenFailure { _ in }
            context.fireChannelRead(data)
        }
    }

    final class Equipper: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny

        func channelActive(context: ChannelHandlerContext) {
            equip(context)
            context.fireChannelActive()
        }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive, (try? context.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)) != nil {
                equip(context)
            }
        }

        private var done = false
        private func equip(_ context: ChannelHandlerContext) {
            guard !done else { return }
            done = true
            let pipeline = context.pipeline.syncOperations
            if let decoder = try? pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) {
                try? pipeline.addHandler(ExpectContinueHandler(), position: .after(decoder))
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}
