using VaeLab.Evaluation;
using VaeLab.Models;

namespace VaeLab.Tests.Evaluation;

public class LatentFiguresTests
{
    [Fact]
    public void AMosaicPlacesEachTileAtItsCornerWithEmptyGaps()
    {
        float[] a = [0.1f, 0.2f, 0.3f, 0.4f], b = [0.5f, 0.6f, 0.7f, 0.8f], c = [1f, 1f, 1f, 1f], d = [0f, 0f, 0f, 2f];
        var mosaic = ImageMosaic.Tile([a, b, c, d], 2, 2, 2, 2, "test");
        Assert.Equal(5, mosaic.Pixels.Length);
        Assert.Equal(5, mosaic.Pixels[0].Length);
        Assert.Equal(0.2, mosaic.Pixels[0][1], 6);      // a, top-right pixel
        Assert.Equal(0.5, mosaic.Pixels[0][3], 6);      // b starts after the gap
        Assert.True(double.IsNaN(mosaic.Pixels[2][0])); // gap row
        Assert.Equal(1.0, mosaic.Pixels[4][4]);          // d clamped to 1
        Assert.Throws<ArgumentException>(() => ImageMosaic.Tile([a, b, c], 2, 2, 2, 2, "too few"));
    }

    [Fact]
    public void EveryFigureHasTheShapeItPromises()
    {
        manual_seed(1);
        using var model = new VaeConfig([1, 8, 8], LatentDimensions: 2, HiddenSizes: [16]).Build();
        using var data = TestModels.SmallShapes(40);
        Assert.Equal((2, 10), Tiles(LatentFigures.Reconstructions(model, data)));
        Assert.Equal((3, 5), Tiles(LatentFigures.Samples(model, 3, 5)));
        Assert.Equal((2, 9), Tiles(LatentFigures.Traversals(model, data)));   // capped at the latent size
        Assert.Equal((4, 10), Tiles(LatentFigures.Interpolations(model, data)));
        Assert.Equal((15, 15), Tiles(LatentFigures.Manifold(model)));
        Assert.Equal(8 * 15 + 14, LatentFigures.Manifold(model).Pixels.Length);
        LatentScatter scatter = LatentFigures.Scatter(model, data);
        Assert.Equal(40, scatter.Z1.Length);
        Assert.Equal(data.Labels!.data<long>().Select(l => (int)l), scatter.Labels);
    }

    [Fact]
    public void InterpolationsStartAndEndAtTheTwoInputsDecodedMeans()
    {
        manual_seed(2);
        using var model = new VaeConfig([1, 8, 8], LatentDimensions: 3, HiddenSizes: [16]).Build();
        using var data = TestModels.SmallShapes(8);
        var mosaic = LatentFigures.Interpolations(model, data, pairs: 1, steps: 5);
        using var reconstructions = model.Reconstruct(data.Examples.slice(0, 0, 2, 1));
        float[] first = reconstructions[0].contiguous().data<float>().ToArray();
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++)
                Assert.Equal(first[y * 8 + x], mosaic.Pixels[y][x], 5);
    }

    [Fact]
    public void TraversalsInAChosenOrderAreTheDefaultRowsReordered()
    {
        manual_seed(3);
        using var model = new VaeConfig([1, 8, 8], LatentDimensions: 3, HiddenSizes: [16]).Build();
        using var data = TestModels.SmallShapes(8);
        var plain = LatentFigures.Traversals(model, data, steps: 5);
        var sorted = LatentFigures.Traversals(model, data, [2, 0], 5, "sorted");
        Assert.Equal((2, 5), Tiles(sorted));
        Assert.Equal("sorted", sorted.Caption);
        // Row 0 of the sorted mosaic is row 2 of the plain one; row 1 is row 0 (each tile row is 8 pixels plus a 1-pixel gap).
        // (Equal up to float round-off: the decoder sees batches of another size.)
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < sorted.Pixels[y].Length; x++)
            {
                Assert.Equal(plain.Pixels[2 * 9 + y][x], sorted.Pixels[y][x], 5);
                Assert.Equal(plain.Pixels[y][x], sorted.Pixels[9 + y][x], 5);
            }
        Assert.Throws<ArgumentException>(() => LatentFigures.Traversals(model, data, [3], 5, "outside"));
        Assert.Throws<ArgumentException>(() => LatentFigures.Traversals(model, data, [], 5, "none"));
    }

    static (int, int) Tiles(ImageMosaic mosaic) => (mosaic.Rows, mosaic.Columns);
}
