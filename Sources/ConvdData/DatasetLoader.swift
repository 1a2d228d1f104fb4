// DatasetLoader: `--data D` to a Dataset in a model's input shape. D may be
//   - a folder of IDX files (MNIST layout): the train split reads `train-images-idx3-ubyte[.gz]`
//     and `train-labels-idx1-ubyte[.gz]`, the test split `t10k-*`; class names come from a
//     `labels.txt` beside them (one per line), else Fashion-MNIST's when the path names
//     fashion, else the digits 0–9;
//   - a folder-per-class tree of PNGs (`D/<label>/*.png`), or one with `train/` and `test/`
//     subfolders holding such trees, which the splits then choose.
// Images of another size are resized (area when shrinking, bilinear when enlarging), colour
// becomes gray for a gray model, and samples are on the unit scale.
import ConvdCore
import ConvdImage
import ConvdNet
import Foundation

/// Which part of a dataset to read.
public enum DatasetSplit: String, Sendable, CaseIterable {
    case train
    case test
}

/// Reads datasets from disk.
public enum DatasetLoader {
    /// Fashion-MNIST's class names, by label index.
    public static let fashionLabels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                       "Sneaker", "Bag", "Ankle boot"]

    /// Loads `split` of the dataset at `path` in `shape`; `limit` keeps only the first samples.
    public static func load(_ path: String, split: DatasetSplit, shape: SampleShape, limit: Int? = nil,
                            classNames: [String]? = nil) throws(DatasetError) -> Dataset {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw DatasetError(path: path, reason: "no such folder (give a folder of IDX files or of class folders)")
        }
        let prefix = split == .train ? "train" : "t10k"
        for suffix in ["", ".gz"] {
            let images = "\(path)/\(prefix)-images-idx3-ubyte\(suffix)", labels = "\(path)/\(prefix)-labels-idx1-ubyte\(suffix)"
            if FileManager.default.fileExists(atPath: images) && FileManager.default.fileExists(atPath: labels) {
                return try loadIDX(images: images, labels: labels, shape: shape, limit: limit,
                                   classNames: classNames ?? idxClassNames(folder: path))
            }
        }
        let splitFolder = "\(path)/\(split.rawValue)"
        if FileManager.default.fileExists(atPath: splitFolder, isDirectory: &isFolder), isFolder.boolValue {
            return try loadFolders(splitFolder, shape: shape, limit: limit, classNames: classNames)
        }
        return try loadFolders(path, shape: shape, limit: limit, classNames: classNames)
    }

    static func idxClassNames(folder: String) -> [String] {
        if let text = try? String(contentsOfFile: folder + "/labels.txt", encoding: .utf8) {
            let names = text.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            if !names.isEmpty { return names }
        }
        return folder.lowercased().contains("fashion") ? fashionLabels : (0..<10).map(String.init)
    }

    static func loadIDX(images: String, labels: String, shape: SampleShape, limit: Int?,
                        classNames: [String]) throws(DatasetError) -> Dataset {
        let imageFile = try IDXFile.read(images), labelFile = try IDXFile.read(labels)
        guard imageFile.dimensions.count == 3 else {
            throw DatasetError(path: images, reason: "expected N×rows×columns images, found \(imageFile.dimensions.count) dimensions")
        }
        guard labelFile.dimensions.count == 1, labelFile.dimensions[0] == imageFile.dimensions[0] else {
            throw DatasetError(path: labels, reason: "expected \(imageFile.dimensions[0]) labels to match the images")
        }
        let count = min(imageFile.dimensions[0], limit ?? .max)
        let h = imageFile.dimensions[1], w = imageFile.dimensions[2]
        var pixels: [Float] = []
        pixels.reserveCapacity(count * shape.channels * shape.height * shape.width)
        var labelsOut: [Int] = []
        for i in 0..<count {
            let label = Int(labelFile.values[i])
            guard label < classNames.count else {
                throw DatasetError(path: labels, reason: "label \(label) of sample \(i) has no class name "
                                   + "(\(classNames.count) names)")
            }
            let raw = imageFile.values[(i * h * w)..<((i + 1) * h * w)].map { Float($0) / 255 }
            let image = Tensor(channels: 1, height: h, width: w, scalars: raw)
            pixels.append(contentsOf: conform(image, to: shape).scalars)
            labelsOut.append(label)
        }
        return Dataset(shape: shape, pixels: pixels, labels: labelsOut, classNames: classNames)
    }

    static func loadFolders(_ root: String, shape: SampleShape, limit: Int?,
                            classNames: [String]?) throws(DatasetError) -> Dataset {
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
        let found = entries.filter { name in
            var isFolder: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: "\(root)/\(name)", isDirectory: &isFolder)
                && isFolder.boolValue
        }
        guard !found.isEmpty else {
            throw DatasetError(path: root, reason: "no IDX files (train-images-idx3-ubyte...) and no class folders")
        }
        let names = classNames ?? found
        var pixels: [Float] = []
        var labels: [Int] = []
        var files: [(String, Int)] = []
        for folder in found {
            guard let label = names.firstIndex(of: folder) else {
                throw DatasetError(path: "\(root)/\(folder)", reason: "class \"\(folder)\" is not one of the model's labels")
            }
            let pngs = ((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(folder)")) ?? [])
                .filter { $0.lowercased().hasSuffix(".png") && !$0.hasPrefix(".") }.sorted()
            files += pngs.map { ("\(root)/\(folder)/\($0)", label) }
        }
        guard !files.isEmpty else { throw DatasetError(path: root, reason: "the class folders hold no .png files") }
        // Interleave classes round-robin so that a --limit keeps every class.
        var groups = [[String]](repeating: [], count: names.count)
        for (file, label) in files { groups[label].append(file) }
        var ordered: [(String, Int)] = []
        for rank in 0..<(groups.map(\.count).max() ?? 0) {
            for (label, group) in groups.enumerated() where rank < group.count { ordered.append((group[rank], label)) }
        }
        for (file, label) in ordered.prefix(limit ?? .max) {
            let image: Tensor
            do {
                image = try PNGCodec.decodeFile(file)
            } catch {
                throw DatasetError(path: file, reason: error.reason)
            }
            pixels.append(contentsOf: conform(image, to: shape).scalars)
            labels.append(label)
        }
        return Dataset(shape: shape, pixels: pixels, labels: labels, classNames: names)
    }

    /// Gray or RGB as `shape` says, resized to its height and width.
    static func conform(_ image: Tensor, to shape: SampleShape) -> Tensor {
        var x = shape.channels == 1 ? ChannelOps.gray(image) : ChannelOps.rgb(image)
        if x.height != shape.height || x.width != shape.width { x = Resize.apply(x, height: shape.height, width: shape.width) }
        return x
    }
}
