package sandbox

import (
	"math/rand/v2"
	"strconv"
)

// catalog is one account's products, shops, authors and PIDs.
type catalog struct {
	shops    []Shop
	products []Product
	authors  []Author
	pids     []string
}

var (
	shopStems   = []string{"梦想食品", "优选家居", "山野茶业", "清风日化", "极客数码", "暖冬服饰", "小鹿母婴", "南国果园", "匠心厨具", "星河美妆", "老街零食", "云端运动"}
	shopSuffix  = []string{"专营店", "旗舰店", "官方店", "企业店"}
	itemPrefix  = []string{"【整箱十二枚】", "【官方正品】", "【限时秒杀】", "【买一送一】", "【直播专享】", ""}
	itemQualify = []string{"网红爆款", "家用大容量", "新款加厚", "原产地直发", "低脂健康", "便携小巧"}
	itemStem    = []string{"猫山王榴莲饼", "手撕牛肉干", "洗衣凝珠", "补水面膜", "保温杯", "透气运动鞋", "每日坚果礼盒", "柳州螺蛳粉", "蓝牙耳机", "轻薄羽绒服", "明前龙井", "抽纸整箱", "不粘炒锅", "儿童牙膏", "冻干咖啡"}
	nickFirst   = []string{"小", "阿", "大", "老", "甜", "酷"}
	nickSecond  = []string{"鱼", "橙", "鹿", "猫", "辣椒", "豆豆", "星星", "麦子"}
	nickSuffix  = []string{"好物分享", "的小店", "爱生活", "说美食", "带你逛", ""}
)

const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}

func letters(r *rand.Rand, set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

func newCatalog(r *rand.Rand) *catalog {
	c := &catalog{}
	for i := 0; i < 12; i++ {
		c.shops = append(c.shops, Shop{
			ID:   10_000_000 + r.Int64N(90_000_000),
			Name: shopStems[i] + pick(r, shopSuffix),
		})
	}
	for i := 0; i < 80; i++ {
		c.products = append(c.products, Product{
			ID:   strconv.FormatUint(3_400_000_000_000_000_000+r.Uint64N(200_000_000_000_000_000), 10),
			Name: pick(r, itemPrefix) + pick(r, itemQualify) + pick(r, itemStem),
			Img:  "https://p3-aio.ecombdimg.com/obj/ecom-shop-material/v1_" + letters(r, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 8) + "_" + digits(r, 26) + "_" + letters(r, "0123456789abcdef", 32) + "_sx_" + digits(r, 6) + "_www800-800",
			Shop: &c.shops[r.IntN(len(c.shops))],
		})
	}
	for i := 0; i < 6; i++ {
		c.authors = append(c.authors, Author{
			Nickname: pick(r, nickFirst) + pick(r, nickSecond) + pick(r, nickSuffix),
			OpenID:   uuidString(r.Uint64(), r.Uint64()),
			ShortID:  letters(r, alnum, 4+r.IntN(6)),
			BuyinID:  digits(r, 16),
		})
	}
	for i := 0; i < 4; i++ {
		c.pids = append(c.pids, "dy_"+digits(r, 21)+"_"+digits(r, 5)+"_"+digits(r, 10))
	}
	return c
}
