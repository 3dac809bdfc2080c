using System.Reflection;

namespace VaeLab.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017; MIT licence): 28×28 grey-level images of 10 clothing
/// classes, 60,000 for training and 10,000 for testing, in IDX format. Its 10,000-image test split is
/// embedded in VaeLab.Core.dll so the default job runs anywhere; the full set is used when present.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the full set.</summary>
    public const string SystemDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Examples the embedded set holds back as its test split (the rest is for training).</summary>
    public const int EmbeddedTestCount = 1_000;

    /// <summary>Seed of the fixed permutation that splits the embedded set into training and test parts.</summary>
    public const long EmbeddedSplitSeed = 20_170_825;

    const string ResourcePrefix = "VaeLab.Data.fashion-mnist.";

    /// <summary>
    /// Resolves the data the main job uses: the MNIST-format directory given, else the system's full
    /// Fashion-MNIST when installed, else the embedded 10,000 images (split 9,000 train / 1,000 test by a
    /// fixed permutation). <see cref="DataChoice.Description"/> says which was chosen.
    /// </summary>
    /// <param name="directory">A folder with the four MNIST-format files, or null to search.</param>
    /// <param name="useSystemCopy">Whether to look in <see cref="SystemDirectory"/> when no folder is given.</param>
    /// <exception cref="FileNotFoundException">The folder given lacks one of the files.</exception>
    /// <exception cref="IdxFormatException">A file is not valid.</exception>
    public static DataChoice Load(string? directory = null, bool useSystemCopy = true) =>
        Resolve(directory, useSystemCopy ? SystemDirectory : null);

    /// <summary>
    /// <see cref="Load"/> with the installed copy looked for in <paramref name="installedDirectory"/>
    /// (null: none): the folder given if any, else the installed one if complete, else the embedded data.
    /// </summary>
    public static DataChoice Resolve(string? directory, string? installedDirectory)
    {
        if (directory is not null)
            return MnistFormatDirectory.Load(directory);
        if (installedDirectory is not null && MnistFormatDirectory.IsComplete(installedDirectory))
            return MnistFormatDirectory.Load(installedDirectory, "Fashion-MNIST");
        return LoadEmbedded();
    }

    /// <summary>The embedded test split of Fashion-MNIST, all 10,000 images with labels.</summary>
    public static Dataset LoadEmbeddedImages()
    {
        var (images, labels) = ReadEmbeddedFiles();
        using (images)
        using (labels)
            return IdxDatasets.FromArrays(images, labels, "Fashion-MNIST test split (embedded)", "embedded in VaeLab.Core.dll (from data/fashion-mnist)");
    }

    /// <summary>The embedded 10,000 images split into 9,000 for training and 1,000 for testing, always the same way.</summary>
    public static DataChoice LoadEmbedded()
    {
        using Dataset all = LoadEmbeddedImages();
        var (train, test) = DatasetSplit.Split(all, EmbeddedTestCount, EmbeddedSplitSeed, "embedded train", "embedded test");
        return new DataChoice(train, test,
            $"embedded Fashion-MNIST test split (10,000 images; {train.Count:N0} for training, {test.Count:N0} held out for testing). " +
            $"For the full 60,000 + 10,000: apt-get install dataset-fashion-mnist, or pass a folder of MNIST-format files.");
    }

    /// <summary>The embedded images and labels files as read (bytes, before conversion to tensors).</summary>
    public static (IdxArray Images, IdxArray Labels) ReadEmbeddedFiles() =>
        (ReadResource("t10k-images-idx3-ubyte.gz"), ReadResource("t10k-labels-idx1-ubyte.gz"));

    static IdxArray ReadResource(string file)
    {
        string name = ResourcePrefix + file;
        using Stream stream = typeof(FashionMnist).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"VaeLab.dll lacks its embedded resource '{name}': the build did not embed data/fashion-mnist/{file}.");
        return IdxReader.Read(stream, $"embedded:{file}");
    }
}
