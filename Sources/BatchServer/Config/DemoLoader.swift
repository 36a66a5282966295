import BatchCore
import BatchImaging
import BatchStore
import Foundation

/// Fills the database with the demo district (`schoolbatch demo`). Safe to run again: schools, classes and people
/// are upserted by their IDs, and a photo is added only to a student who has none.
public enum DemoLoader {
    public struct Summary: Sendable {
        public var schools: Int
        public var classes: Int
        public var students: Int
        public var staff: Int
        public var photosAdded: Int
    }

    public static func load(into services: AppServices, log: (String) -> Void = { print($0) }) async throws -> Summary {
        let demo = DemoDistrict.make()
        let store = services.store
        var keyForDemoKey: [SchoolKey: SchoolKey] = [:]
        for school in demo.schools {
            if let existing = try await store.school(id: school.schoolID!) {
                keyForDemoKey[school.key] = existing.key
            } else {
                try await store.createSchool(school, by: .system)
                keyForDemoKey[school.key] = school.key
            }
        }
        func mapped(_ key: SchoolKey) -> SchoolKey { keyForDemoKey[key] ?? key }
        var settings = try await store.settings()
        if settings.districtName == DistrictSettings().districtName {
            settings.districtName = "Harbour District (demo)"
            try await store.updateSettings(settings, by: .system)
        }
        log("Schools: \(demo.schools.count)")
        try await store.upsert(classes: demo.classes.map { var c = $0; c.schoolKey = mapped(c.schoolKey); return c })
        log("Classes: \(demo.classes.count)")
        try await store.upsert(people: demo.people.map { var p = $0; p.schoolKeys = p.schoolKeys.map(mapped); return p })
        try await store.upsert(enrollments: demo.enrollments)
        try await store.upsert(demographics: demo.demographics)
        let students = demo.people.filter { $0.role == .student }.count
        log("People: \(students) students, \(demo.people.count - students) staff")
        var added = 0
        let generator = PortraitGenerator()
        for (index, item) in demo.photoSeeds.enumerated() {
            if try await store.currentPhoto(item.userID) != nil { continue }
            let jpeg = try generator.jpeg(seed: item.seed)
            let thumbnail = try TurboJPEG.thumbnail(of: jpeg, maxWidth: 160, maxHeight: 200)
            let key = try services.blobs.put(jpeg)
            let thumbnailKey = try services.blobs.put(thumbnail)
            try await store.addPhoto(
                userID: item.userID, blobKey: key, thumbnailKey: thumbnailKey, contentHash: key,
                width: generator.width, height: generator.height, byteSize: jpeg.count, by: .system)
            added += 1
            if (index + 1) % 100 == 0 { log("Photos: \(index + 1) of \(demo.photoSeeds.count)") }
        }
        log("Photos added: \(added)")
        return Summary(
            schools: demo.schools.count, classes: demo.classes.count, students: students,
            staff: demo.people.count - students, photosAdded: added)
    }
}
