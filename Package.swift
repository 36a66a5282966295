// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "SchoolBatch",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "schoolbatch", targets: ["schoolbatch"]),
        .executable(name: "schoolbatch-bench", targets: ["ListBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/leaf.git", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
    ],
    targets: [
        .target(
            name: "BatchCore",
            swiftSettings: strict
        ),
        .systemLibrary(
            name: "CTurboJPEG",
            pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),
        .systemLibrary(
            name: "CZlibCRC",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CSQLiteConfig",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "BatchImaging",
            dependencies: ["BatchCore", "CTurboJPEG"],
            swiftSettings: strict
        ),
        .target(
            name: "BatchStore",
            dependencies: [
                "BatchCore", "BatchImaging", "CZlibCRC", "CSQLiteConfig",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "BatchServer",
            dependencies: [
                "BatchCore", "BatchImaging", "BatchStore",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Leaf", package: "leaf"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "schoolbatch",
            dependencies: [
                "BatchCore", "BatchServer", "BatchImaging", "BatchStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict,
            // mimalloc instead of glibc's malloc: a state-size roster import allocates tens of millions of small
            // strings, arrays and dictionaries; measured 28.4 s → 21.6 s and 932 → 672 MB at 20,000 students.
            linkerSettings: [.linkedLibrary("mimalloc", .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "ListBench",
            dependencies: ["BatchCore", "BatchImaging", "BatchStore", .product(name: "Crypto", package: "swift-crypto")],
            path: "Benchmarks/ListBench",
            swiftSettings: strict,
            // The allocator the `schoolbatch` binary uses (above): the bench's in-process steps (reading and checking
            // a roster) are timed as the product runs them.
            linkerSettings: [.linkedLibrary("mimalloc", .when(platforms: [.linux]))]
        ),
        .target(
            name: "BatchTestSupport",
            dependencies: ["BatchStore", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "Tests/BatchTestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "BatchCoreTests", dependencies: ["BatchCore", "BatchTestSupport"], swiftSettings: strict),
        .testTarget(name: "BatchImagingTests", dependencies: ["BatchImaging"], swiftSettings: strict),
        .testTarget(
            name: "BatchStoreTests",
            dependencies: ["BatchStore", "BatchTestSupport", "CSQLiteConfig", .product(name: "Logging", package: "swift-log")], swiftSettings: strict
        ),
        .testTarget(
            name: "BatchServerTests",
            dependencies: [
                "BatchServer", "BatchTestSupport",
                .product(name: "VaporTesting", package: "vapor"),
            ],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
