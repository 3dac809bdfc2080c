using VaeLab.Data;

namespace VaeLab.Tests.Data;

public class BatchSamplerTests
{
    static Dataset Numbered(int count) =>
        new("numbers", "test", arange(count, dtype: ScalarType.Float32).view(count, 1), arange(count, dtype: ScalarType.Int64));

    static long[] EpochOrder(BatchSampler sampler)
    {
        var order = new List<long>();
        foreach (Batch batch in sampler.NextEpoch())
            using (batch)
            {
                Assert.True(TensorAssert.Identical(batch.Examples.view(-1).to_type(ScalarType.Int64), batch.Labels!));
                order.AddRange(batch.Indices.data<long>().ToArray());
            }
        return order.ToArray();
    }

    [Fact]
    public void EveryExampleAppearsExactlyOncePerEpochAndEpochsDiffer()
    {
        using Dataset data = Numbered(103);
        using var generator = new Generator(5);
        using var sampler = new BatchSampler(data, batchSize: 10, generator);
        Assert.Equal(11, sampler.BatchesPerEpoch);
        long[] first = EpochOrder(sampler);
        long[] second = EpochOrder(sampler);
        Assert.Equal(Enumerable.Range(0, 103).Select(i => (long)i), first.OrderBy(i => i));
        Assert.Equal(Enumerable.Range(0, 103).Select(i => (long)i), second.OrderBy(i => i));
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void TheSameSeedGivesTheSameSequenceOfEpochs()
    {
        using Dataset data = Numbered(50);
        using var g1 = new Generator(11);
        using var g2 = new Generator(11);
        using var s1 = new BatchSampler(data, 8, g1);
        using var s2 = new BatchSampler(data, 8, g2);
        for (int epoch = 0; epoch < 3; epoch++)
            Assert.Equal(EpochOrder(s1), EpochOrder(s2));
    }

    [Fact]
    public void DropLastServesOnlyFullBatches()
    {
        using Dataset data = Numbered(25);
        using var generator = new Generator(1);
        using var sampler = new BatchSampler(data, 10, generator, dropLast: true);
        Assert.Equal(2, sampler.BatchesPerEpoch);
        Assert.Equal(20, EpochOrder(sampler).Distinct().Count());
    }

    [Fact]
    public void DynamicBinarisationDrawsAfreshEachEpochAndStaticKeepsOneDraw()
    {
        using var grey = full(new long[] { 64, 1, 4, 4 }, 0.5f);
        using var data = new Dataset("grey", "test", grey.clone());
        float[] Pixels(BatchSampler sampler, out long[] order)
        {
            Batch batch = sampler.NextEpoch().Single();
            using (batch)
            {
                // Put the pixels back in dataset order to compare epochs.
                order = batch.Indices.data<long>().ToArray();
                using var sorted = batch.Examples.index_select(0, batch.Indices.argsort());
                return sorted.data<float>().ToArray();
            }
        }

        using var g = new Generator(3);
        using var dynamicSampler = new BatchSampler(data, 64, g, Binarization.Dynamic);
        float[] d1 = Pixels(dynamicSampler, out _), d2 = Pixels(dynamicSampler, out _);
        Assert.All(d1, v => Assert.True(v == 0f || v == 1f));
        Assert.NotEqual(d1, d2);
        Assert.InRange(d1.Average(), 0.4, 0.6);

        using var g2 = new Generator(3);
        using var staticSampler = new BatchSampler(data, 64, g2, Binarization.Static);
        float[] s1 = Pixels(staticSampler, out _), s2 = Pixels(staticSampler, out _);
        Assert.All(s1, v => Assert.True(v == 0f || v == 1f));
        Assert.Equal(s1, s2);
    }

    [Fact]
    public void BatchSizeBelowOneIsRefused()
    {
        using Dataset data = Numbered(5);
        using var generator = new Generator(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchSampler(data, 0, generator));
    }
}
