using VaeLab.Data;

namespace VaeLab.Tests.Data;

public class DatasetSplitTests
{
    static Dataset Numbered(int count) =>
        new("numbers", "test", arange(count, dtype: ScalarType.Float32).view(count, 1), arange(count, dtype: ScalarType.Int64));

    [Fact]
    public void PartsAreDisjointCoverEverythingAndRepeatForASeed()
    {
        using Dataset data = Numbered(100);
        var (train, validation) = DatasetSplit.TrainValidation(data, 0.2, seed: 7);
        using (train)
        using (validation)
        {
            Assert.Equal(80, train.Count);
            Assert.Equal(20, validation.Count);
            var all = train.Labels!.data<long>().Concat(validation.Labels!.data<long>()).OrderBy(v => v);
            Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), all);

            var (train2, validation2) = DatasetSplit.TrainValidation(data, 0.2, seed: 7);
            using (train2)
            using (validation2)
                Assert.True(TensorAssert.Identical(validation.Labels, validation2.Labels!));

            var (train3, validation3) = DatasetSplit.TrainValidation(data, 0.2, seed: 8);
            using (train3)
            using (validation3)
                Assert.False(TensorAssert.Identical(validation.Labels, validation3.Labels!));
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void FractionsOutsideTheOpenIntervalAreRefused(double fraction)
    {
        using Dataset data = Numbered(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplit.TrainValidation(data, fraction, 1));
    }

    [Fact]
    public void DatasetRefusesLabelsOfTheWrongLength()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new Dataset("bad", "test", zeros(3, 2), zeros(4, dtype: ScalarType.Int64)));
        Assert.Contains("3 examples", error.Message);
    }
}
