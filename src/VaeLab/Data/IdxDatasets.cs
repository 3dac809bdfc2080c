using static TorchSharp.torch;

using VaeLab.Runtime;

namespace VaeLab.Data;

/// <summary>Builds image datasets from a pair of IDX files (images idx3-ubyte, labels idx1-ubyte).</summary>
public static class IdxDatasets
{
    /// <summary>Reads an images file and its labels file into a dataset of float32 images k/255 in [0, 1] (256 levels), shape [N, 1, H, W].</summary>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="IdxFormatException">A file is not valid IDX, has the wrong rank, or the counts differ.</exception>
    public static Dataset Load(string imagesPath, string labelsPath, string name)
    {
        using IdxArray images = IdxReader.Read(imagesPath);
        using IdxArray labels = IdxReader.Read(labelsPath);
        return FromArrays(images, labels, name, $"{imagesPath} + {Path.GetFileName(labelsPath)}");
    }

    /// <summary>Builds a dataset from IDX arrays already read (the caller keeps and disposes them); checks ranks and that the counts agree.</summary>
    /// <exception cref="IdxFormatException">Images are not [N, H, W], labels not [N], or the counts differ.</exception>
    public static Dataset FromArrays(IdxArray images, IdxArray labels, string name, string origin)
    {
        if (images.Dimensions.Length != 3)
            throw new IdxFormatException(images.Source,
                $"an images file has 3 dimensions [count, height, width] (idx3-ubyte), this one has {images.Dimensions.Length} ({IdxReader.Shape(images.Dimensions)}).");
        if (labels.Dimensions.Length != 1)
            throw new IdxFormatException(labels.Source,
                $"a labels file has 1 dimension [count] (idx1-ubyte), this one has {labels.Dimensions.Length} ({IdxReader.Shape(labels.Dimensions)}).");
        if (images.Count != labels.Count)
            throw new IdxFormatException(labels.Source,
                $"it holds {labels.Count:N0} labels but the images file '{images.Source}' holds {images.Count:N0} images; they must match.");

        using var scope = NewDisposeScope();
        int height = images.Dimensions[1], width = images.Dimensions[2];
        // One conversion pass into pre-populated memory and one in-place division: no per-pixel managed loop.
        Tensor pixels = MemoryPages.Empty([images.Count, 1, height, width], ScalarType.Float32);
        pixels.view(images.Count, height, width).copy_(images.Data);
        pixels.div_(255f);
        Tensor classes = labels.Data.to_type(ScalarType.Int64);
        return new Dataset(name, origin, pixels.MoveToOuterDisposeScope(), classes.MoveToOuterDisposeScope(), levels: 256);   // unsigned bytes: k/255
    }
}
