namespace VaeLab.Data;

/// <summary>
/// A folder holding a dataset in MNIST's file layout (MNIST, Fashion-MNIST, KMNIST, …):
/// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
/// each raw or with a .gz suffix.
/// </summary>
public static class MnistFormatDirectory
{
    /// <summary>The four base file names, in the order train images, train labels, test images, test labels.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>Whether <paramref name="directory"/> holds all four files.</summary>
    public static bool IsComplete(string directory) =>
        Directory.Exists(directory) && FileNames.All(f => Find(directory, f) is not null);

    /// <summary>
    /// Loads the training and test splits from <paramref name="directory"/>. The data is described by its source ("MNIST-format files
    /// in DIR") unless <paramref name="datasetName"/> says what it is (the installed Fashion-MNIST); each split is named by its images file.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file is missing (the message lists the names looked for).</exception>
    /// <exception cref="IdxFormatException">A file is not valid, or holds no images.</exception>
    public static DataChoice Load(string directory, string? datasetName = null)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Data folder '{directory}' does not exist.");
        string[] paths = FileNames.Select(f => Find(directory, f) ?? throw new FileNotFoundException(
            $"Data folder '{directory}' lacks '{f}' (or '{f}.gz'); an MNIST-format folder holds {string.Join(", ", FileNames)}.",
            Path.Combine(directory, f))).ToArray();
        Dataset train = Split(paths[0], paths[1]);
        try
        {
            Dataset test = Split(paths[2], paths[3]);
            string source = datasetName is null ? $"MNIST-format files in {Path.GetFullPath(directory)}" : $"{datasetName} from {Path.GetFullPath(directory)}";
            return new DataChoice(train, test, $"{source} ({train.Count:N0} training and {test.Count:N0} test images)");
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    static Dataset Split(string images, string labels)
    {
        Dataset split = IdxDatasets.Load(images, labels, Path.GetFullPath(images));
        if (split.Count > 0) return split;
        split.Dispose();
        throw new IdxFormatException(images, "it holds no images (its count is 0): a split to train or test on needs at least one.");
    }

    static string? Find(string directory, string baseName)
    {
        foreach (string candidate in new[] { baseName + ".gz", baseName })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
