using VaeLab.Data;
using VaeLab.Data.Synthetic;

namespace VaeLab.Tests.Data.Synthetic;

public class ShapesTests
{
    [Fact]
    public void SameSeedSameImagesAndFactors()
    {
        using Dataset a = Shapes.Generate(200, seed: 4);
        using Dataset b = Shapes.Generate(200, seed: 4);
        using Dataset c = Shapes.Generate(200, seed: 5);
        Assert.Equal(new long[] { 200, 1, 28, 28 }, a.Examples.shape);
        Assert.True(TensorAssert.Identical(a.Examples, b.Examples));
        Assert.True(TensorAssert.Identical(a.Factors!, b.Factors!));
        Assert.False(TensorAssert.Identical(a.Factors!, c.Factors!));
        Assert.Equal(Shapes.FactorNames, a.FactorNames);
    }

    [Fact]
    public void ImagesAreBinaryAndEachShapeSitsWhereItsFactorsSay()
    {
        const int size = 64;
        using Dataset data = Shapes.Generate(300, seed: 6, size);
        using var values = data.Examples.unique().Item1;
        Assert.Equal(new float[] { 0f, 1f }, values.data<float>().ToArray());
        float[] factors = data.Factors!.data<float>().ToArray();
        float[] pixels = data.Examples.data<float>().ToArray();
        for (int n = 0; n < data.Count; n++)
        {
            float scale = factors[5 * n + 1], x = factors[5 * n + 3], y = factors[5 * n + 4];
            double sum = 0, cx = 0, cy = 0;
            for (int row = 0; row < size; row++)
                for (int col = 0; col < size; col++)
                {
                    float v = pixels[(n * size + row) * size + col];
                    sum += v;
                    cx += v * (col + 0.5) / size;
                    cy += v * (row + 0.5) / size;
                }
            Assert.True(sum > 0, $"image {n} is empty");
            // Every shape here is centred on its origin, so the centre of mass is the (x, y) factor.
            Assert.InRange(cx / sum, x - 1.0 / size, x + 1.0 / size);
            Assert.InRange(cy / sum, y - 1.0 / size, y + 1.0 / size);
            // Area grows with the square of the scale: (2s)² for the square, π s²/2 for the ellipse, (3√3/4) s² for the triangle.
            int shape = (int)factors[5 * n];
            double expected = shape switch { 0 => 4, 1 => Math.PI / 2, _ => 3 * Math.Sqrt(3) / 4 } * scale * scale * size * size;
            Assert.InRange(sum, expected * 0.85, expected * 1.15);
        }
    }

    [Fact]
    public void LabelsAreTheShapeFactor()
    {
        using Dataset data = Shapes.Generate(90, seed: 7);
        Assert.True(TensorAssert.Identical(data.Labels!.to_type(ScalarType.Float32), data.Factors![.., 0]));
        Assert.Equal(3, Shapes.ShapeNames.Count);
    }
}
