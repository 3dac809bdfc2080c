using VaeLab.Data;

namespace VaeLab.Tests.Data;

public class FashionMnistTests
{
    [Fact]
    public void EmbeddedTestSplitHasTheDocumentedShapeAndClassCounts()
    {
        using Dataset data = FashionMnist.LoadEmbeddedImages();
        Assert.Equal(new long[] { 10_000, 1, 28, 28 }, data.Examples.shape);
        Assert.Equal(784, data.Dimension);
        Assert.InRange(data.Examples.min().item<float>(), 0f, 0f);
        Assert.InRange(data.Examples.max().item<float>(), 1f, 1f);
        // Fashion-MNIST's test split holds exactly 1,000 images of each of its 10 classes.
        using var counts = data.Labels!.bincount(null);
        Assert.Equal(Enumerable.Repeat(1_000L, 10), counts.data<long>().ToArray());
        Assert.Equal(10, FashionMnist.ClassNames.Count);
    }

    [Fact]
    public void EmbeddedChoiceSplitsNineThousandToOneThousandTheSameWayEveryTime()
    {
        using DataChoice first = FashionMnist.LoadEmbedded();
        using DataChoice second = FashionMnist.LoadEmbedded();
        Assert.Equal(9_000, first.Train.Count);
        Assert.Equal(1_000, first.Test.Count);
        Assert.True(TensorAssert.Identical(first.Test.Examples, second.Test.Examples));
        Assert.Contains("embedded", first.Description);
        Assert.Contains("9,000", first.Description);
    }

    [Fact]
    public void WithoutTheSystemCopyTheEmbeddedDataIsChosen()
    {
        using DataChoice choice = FashionMnist.Load(useSystemCopy: false);
        Assert.StartsWith("embedded Fashion-MNIST", choice.Description);
    }

    [Fact]
    public void AFolderOfMnistFormatFilesIsUsedWhenGiven()
    {
        using var folder = new TempDirectory();
        IdxWriter.Write(folder.File("train-images-idx3-ubyte.gz"), [3, 4, 4], new byte[48]);
        IdxWriter.Write(folder.File("train-labels-idx1-ubyte.gz"), [3], [0, 1, 2]);
        IdxWriter.Write(folder.File("t10k-images-idx3-ubyte"), [2, 4, 4], new byte[32]);
        IdxWriter.Write(folder.File("t10k-labels-idx1-ubyte"), [2], [5, 6]);
        using DataChoice choice = FashionMnist.Load(folder.Path);
        Assert.Equal(3, choice.Train.Count);
        Assert.Equal(2, choice.Test.Count);
        Assert.Contains(folder.Path, choice.Description);
    }

    [Fact]
    public void AFolderMissingAFileIsRefusedWithTheNameLookedFor()
    {
        using var folder = new TempDirectory();
        IdxWriter.Write(folder.File("train-images-idx3-ubyte.gz"), [1, 2, 2], new byte[4]);
        var error = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(folder.Path));
        Assert.Contains("train-labels-idx1-ubyte", error.Message);
        Assert.Contains(folder.Path, error.Message);
    }

    [Fact]
    public void AMissingFolderIsRefused()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => FashionMnist.Load("/nonexistent/vaelab-data"));
        Assert.Contains("/nonexistent/vaelab-data", error.Message);
    }

    static void WriteMnistFormat(TempDirectory folder, int train, int test)
    {
        IdxWriter.Write(folder.File("train-images-idx3-ubyte.gz"), [train, 4, 4], new byte[train * 16]);
        IdxWriter.Write(folder.File("train-labels-idx1-ubyte.gz"), [train], new byte[train]);
        IdxWriter.Write(folder.File("t10k-images-idx3-ubyte.gz"), [test, 4, 4], new byte[test * 16]);
        IdxWriter.Write(folder.File("t10k-labels-idx1-ubyte.gz"), [test], new byte[test]);
    }

    [Fact]
    public void AnInstalledCompleteSetIsPreferredToTheEmbeddedOne()
    {
        using var installed = new TempDirectory();
        WriteMnistFormat(installed, train: 6, test: 2);
        using DataChoice choice = FashionMnist.Resolve(directory: null, installedDirectory: installed.Path);
        Assert.Equal(6, choice.Train.Count);
        Assert.Contains(installed.Path, choice.Description);
    }

    [Fact]
    public void AFolderGivenWinsOverTheInstalledSet()
    {
        using var installed = new TempDirectory();
        using var given = new TempDirectory();
        WriteMnistFormat(installed, train: 6, test: 2);
        WriteMnistFormat(given, train: 3, test: 1);
        using DataChoice choice = FashionMnist.Resolve(given.Path, installed.Path);
        Assert.Equal(3, choice.Train.Count);
    }

    [Fact]
    public void AnIncompleteInstalledSetFallsBackToTheEmbeddedData()
    {
        using var installed = new TempDirectory();
        WriteMnistFormat(installed, train: 6, test: 2);
        File.Delete(installed.File("t10k-labels-idx1-ubyte.gz"));
        using DataChoice choice = FashionMnist.Resolve(null, installed.Path);
        Assert.Equal(9_000, choice.Train.Count);
        Assert.StartsWith("embedded", choice.Description);
    }
}
