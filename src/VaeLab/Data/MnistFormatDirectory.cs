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

    /// <summary>Loads the training and test splits from <paramref name="directory"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file is missing (the message lists the names looked for).</exception>
    /// <exception cref="IdxFormatException">A file is not valid.</exception>
    public static DataChoice Load(string directory, string datasetName)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Data folder '{directory}' does not exist.");
        string[] paths = FileNames.Select(f => Find(directory, f) ?? throw new FileNotFoundException(
            $"Data folder '{directory}' lacks '{f}' (or '{f}.gz'); an MNIST-format folder holds {string.Join(", ", FileNames)}.",
            Path.Combine(directory, f))).ToArray();
        Dataset train = IdxDatasets.Load(paths[0], paths[1], $"{datasetName} train");
        try
        {
            Dataset test = IdxDatasets.Load(paths[2], paths[3], $"{datasetName} test");
            return new DataChoice(train, test,
                $"{datasetName} from {Path.GetFullPath(directory)} ({train.Count:N0} training and {test.Count:N0} test images)");
        }
        catch
        {
            train.Dispose();
            throw;
        }
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
