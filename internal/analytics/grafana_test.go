package analytics

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"github.com/yongjin-dev/yongjin/internal/analytics/analyticsfixture"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// The shipped Grafana dashboard and its Kubernetes ConfigMap.
const (
	grafanaDashboardFile = "../../deploy/grafana/dashboards/yongjin-commission.json"
	grafanaConfigMapFile = "../../deploy/k8s/base/grafana-dashboards.yaml"
	grafanaPluginID      = "grafana-clickhouse-datasource"
)

type grafanaDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaTarget struct {
	RefID      string            `json:"refId"`
	Datasource grafanaDatasource `json:"datasource"`
	EditorType string            `json:"editorType"`
	QueryType  string            `json:"queryType"`
	Format     *int              `json:"format"`
	RawSQL     string            `json:"rawSql"`
}

type grafanaPanel struct {
	ID         int               `json:"id"`
	Type       string            `json:"type"`
	Title      string            `json:"title"`
	TimeFrom   string            `json:"timeFrom"`
	Datasource grafanaDatasource `json:"datasource"`
	Targets    []grafanaTarget   `json:"targets"`
	Panels     []grafanaPanel    `json:"panels"` // a collapsed row's panels
}

type grafanaVariable struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	Query      any    `json:"query"`
	Multi      bool   `json:"multi"`
	IncludeAll bool   `json:"includeAll"`
	Current    struct {
		Value any `json:"value"`
	} `json:"current"`
}

type grafanaDashboard struct {
	UID        string         `json:"uid"`
	Title      string         `json:"title"`
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []grafanaVariable `json:"list"`
	} `json:"templating"`
}

func loadGrafanaDashboard(t *testing.T) (grafanaDashboard, []byte) {
	t.Helper()
	raw, err := os.ReadFile(grafanaDashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", grafanaDashboardFile, err)
	}
	return d, raw
}

// queryPanels are the dashboard's panels that run a query, rows flattened.
func (d grafanaDashboard) queryPanels() []grafanaPanel {
	var out []grafanaPanel
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			out = append(out, p)
		}
	}
	walk(d.Panels)
	return out
}

// currentValues is a variable's current selection as a list.
func (v grafanaVariable) currentValues() []string {
	switch c := v.Current.Value.(type) {
	case string:
		return []string{c}
	case []any:
		var out []string
		for _, x := range c {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// formatCell renders one scanned value the way the expectations spell it:
// decimals with their two places, floats shortest, Dates as days, DateTimes
// in China Standard Time.
func formatCell(v any, dbType string) string {
	switch x := v.(type) {
	case *decimal.Decimal:
		return x.StringFixed(2)
	case *time.Time:
		if dbType == "Date" {
			return x.Format(time.DateOnly)
		}
		return x.In(wire.CST).Format(time.DateTime)
	case *float64:
		return strconv.FormatFloat(*x, 'f', -1, 64)
	case *string:
		return *x
	}
	return fmt.Sprint(reflect.ValueOf(v).Elem().Interface())
}

// runRows runs q and returns its rows as strings, with the column names.
func runRows(t *testing.T, s *testStore, q string) (cols []string, out [][]string) {
	t.Helper()
	rows, err := s.Query(testCtx(t), "grafana panel", q)
	if err != nil {
		t.Fatalf("query failed: %v\n%s", err, q)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	cols = rows.Columns()
	for rows.Next() {
		dst := make([]any, len(types))
		for i, ct := range types {
			dst[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dst...); err != nil {
			t.Fatalf("scan: %v\n%s", err, q)
		}
		row := make([]string, len(dst))
		for i := range dst {
			row[i] = formatCell(dst[i], types[i].DatabaseTypeName())
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rows: %v\n%s", err, q)
	}
	return cols, out
}

func r(cells ...any) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = fmt.Sprint(c)
	}
	return out
}

func ratio(a, b float64) string { return strconv.FormatFloat(a/b, 'f', -1, 64) }

// grafanaExpected are the exact results of every panel over the fixture,
// 2024-03-01..03 CST, every platform, role creator, indicator order_cnt,
// period DAY_30, top 10. Times are CST.
var grafanaExpected = map[string][][]string{
	"Estimated commission":  {r("71.50")},
	"Settled commission":    {r("60.00")},
	"Refunded commission":   {r("34.00")},
	"Refund rate":           {r(ratio(3, 9))},
	"Orders":                {r(9)},
	"Median settlement lag": {r(48)},
	"Estimated commission per day by platform": {
		r("2024-03-01 00:00:00", "douke", "20.00"), r("2024-03-01 00:00:00", "taobao-live", "6.00"),
		r("2024-03-02 00:00:00", "douke", "4.50"), r("2024-03-02 00:00:00", "taobao-live", "0.00"),
		r("2024-03-03 00:00:00", "douke", "40.00"), r("2024-03-03 00:00:00", "taobao-live", "1.00"),
	},
	"Estimated vs settled vs refunded per day": {
		r("2024-03-01 00:00:00", "26.00", "20.00", "10.00"),
		r("2024-03-02 00:00:00", "4.50", "0.00", "24.00"),
		r("2024-03-03 00:00:00", "41.00", "40.00", "0.00"),
	},
	"Commission by day, platform, account, creator and shop": {
		r("2024-03-01", "douke", "mcn-a", "au-1", "达人一", "sh-1", "店铺一", 1, 0, "100.00", "20.00", "20.00", "0.00"),
		r("2024-03-01", "douke", "mcn-a", "au-1", "达人一", "sh-2", "店铺二", 1, 1, "50.00", "0.00", "0.00", "10.00"),
		r("2024-03-01", "taobao-live", "mcn-b", "nick-1", "nick-1", "", "", 1, 0, "60.00", "6.00", "0.00", "0.00"),
		r("2024-03-02", "douke", "mcn-a", "au-2", "达人二", "sh-1", "店铺一", 2, 1, "110.00", "4.50", "0.00", "20.00"),
		r("2024-03-02", "taobao-live", "mcn-b", "nick-2", "nick-2", "", "", 1, 1, "40.00", "0.00", "0.00", "4.00"),
		r("2024-03-03", "douke", "mcn-a", "au-1", "达人一", "sh-1", "店铺一", 1, 0, "200.00", "40.00", "40.00", "0.00"),
		r("2024-03-03", "taobao-live", "mcn-b", "nick-1", "nick-1", "", "", 1, 0, "20.00", "0.00", "0.00", "0.00"),
		r("2024-03-03", "taobao-live", "mcn-b", "nick-3", "nick-3", "", "", 1, 0, "10.00", "1.00", "0.00", "0.00"),
	},
	"Refund rate per day by platform": {
		r("2024-03-01 00:00:00", "douke", ratio(1, 2)), r("2024-03-01 00:00:00", "taobao-live", 0),
		r("2024-03-02 00:00:00", "douke", ratio(1, 2)), r("2024-03-02 00:00:00", "taobao-live", 1),
		r("2024-03-03 00:00:00", "douke", 0), r("2024-03-03 00:00:00", "taobao-live", 0),
	},
	"Refunds by platform": {
		r("douke", 5, 2, 1, 0, ratio(2, 5), "460.00", "130.00", "130.00", ratio(130, 460)),
		r("taobao-live", 4, 1, 0, 1, ratio(1, 4), "130.00", "40.00", "10.00", ratio(10, 130)), // t2: 10 of 40 yuan refunded
	},
	"Settlement lag by platform (hours)": {r("douke", 3, 40, 48, 60)},
	"Top creators": {
		r("douke", "au-1", "达人一", 3, 1, "60.00", "60.00", "10.00"),
		r("taobao-live", "nick-1", "nick-1", 2, 0, "6.00", "0.00", "0.00"),
		r("douke", "au-2", "达人二", 2, 1, "4.50", "0.00", "20.00"),
		r("taobao-live", "nick-3", "nick-3", 1, 0, "1.00", "0.00", "0.00"),
		r("taobao-live", "nick-2", "nick-2", 1, 1, "0.00", "0.00", "4.00"),
	},
	"Top products": {
		r("douke", "p-1", "商品一", 3, 0, "64.50", "60.00", "0.00"),
		r("taobao-live", "i-1", "宝贝一", 2, 0, "6.00", "0.00", "0.00"),
		r("taobao-live", "i-3", "宝贝三", 1, 0, "1.00", "0.00", "0.00"),
		r("douke", "p-2", "商品二", 1, 1, "0.00", "0.00", "10.00"),
		r("douke", "p-3", "商品三", 1, 1, "0.00", "0.00", "20.00"),
		r("taobao-live", "i-2", "宝贝二", 1, 1, "0.00", "0.00", "4.00"),
	},
	"Commission plan rates (%)": {
		r("2024-03-01 00:00:00", "douyin-poi spu-1/pl-1", 20), r("2024-03-01 00:00:00", "douyin-poi spu-1/pl-2", 15),
		r("2024-03-01 00:00:00", "douyin-poi spu-2/pl-3", 31),
		r("2024-03-02 00:00:00", "douyin-poi spu-1/pl-1", 20), r("2024-03-02 00:00:00", "douyin-poi spu-1/pl-2", 12),
		r("2024-03-02 00:00:00", "douyin-poi spu-2/pl-3", 31),
		r("2024-03-03 00:00:00", "douyin-poi spu-1/pl-1", 25),
	},
	"Commission plan rate changes": {
		r("2024-03-01 08:00:00", "douyin-poi", "spu-1", "pl-1", 18, 20),
		r("2024-03-01 20:00:00", "douyin-poi", "spu-2", "pl-3", 30, 31),
		r("2024-03-02 08:00:00", "douyin-poi", "spu-1", "pl-2", 15, 12),
		r("2024-03-03 08:00:00", "douyin-poi", "spu-1", "pl-1", 20, 25),
	},
	"Xingtu creator indicator ${indicator} (${period})": {
		r("2024-03-01 00:00:00", "x-1", 10), r("2024-03-01 00:00:00", "x-2", 3),
		r("2024-03-02 00:00:00", "x-1", 12), r("2024-03-03 00:00:00", "x-1", 15),
	},
	// Pipeline health: ingestion times are the test run's; see checkPipelinePanel.
	"Records written per hour by vendor (last 2 days)": nil,
	"Last event per source": {
		r("yongjin/douke/mcn-a", "commission", 18, "2024-03-05 21:00:00"),
		r("yongjin/douke/mcn-a", "order", 6, "2024-03-05 21:00:00"),
		r("yongjin/douyin-poi/mcn-a", "commission_plan", 3, "2024-03-03 08:00:00"),
		r("yongjin/taobao-live/mcn-b", "commission", 8, "2024-03-03 20:05:00"),
		r("yongjin/taobao-live/mcn-b", "order", 4, "2024-03-03 20:05:00"),
		r("yongjin/xingtu/mcn-a", "creator_experience", 7, "2024-03-03 09:00:00"),
	},
}

// TestGrafanaDashboardPanels extracts every panel's SQL from the shipped
// Grafana dashboard, expands the ClickHouse plugin's macros and the
// dashboard's template variables (resolving the query variables by running
// their SQL, as Grafana does), runs it against ClickHouse loaded with the
// analytics fixture and checks every cell.
func TestGrafanaDashboardPanels(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Second)
	d, _ := loadGrafanaDashboard(t)
	s := loadAnalytics(t)
	end := time.Now().UTC().Add(time.Second)

	// Variables, in order (later ones may use earlier ones).
	vars := Vars{}
	varOptions := map[string][]string{}
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			if v.Query != grafanaPluginID {
				t.Errorf("variable %s: data source type %v, want %s", v.Name, v.Query, grafanaPluginID)
			}
			continue
		case "constant":
			if v.Name != "database" || v.Query != clickhouse.DefaultDatabase {
				t.Errorf("constant %s = %v; want database = %s", v.Name, v.Query, clickhouse.DefaultDatabase)
			}
			vars[v.Name] = []string{s.Database()}
			continue
		case "custom":
			varOptions[v.Name] = strings.Split(fmt.Sprint(v.Query), ",")
		case "query":
			sql, ok := v.Query.(string)
			if !ok {
				t.Fatalf("variable %s: query %v is not SQL text", v.Name, v.Query)
			}
			q, err := ExpandGrafana(sql, TimeRange{From: analyticsfixture.RangeFrom, To: analyticsfixture.RangeTo}, vars)
			if err != nil {
				t.Fatalf("variable %s: %v", v.Name, err)
			}
			_, rows := runRows(t, s, q)
			for _, row := range rows {
				varOptions[v.Name] = append(varOptions[v.Name], row[0])
			}
		default:
			t.Fatalf("variable %s has unexpected type %s", v.Name, v.Type)
		}
		cur := v.currentValues()
		if len(cur) == 1 && cur[0] == "$__all" {
			if !v.IncludeAll {
				t.Errorf("variable %s selects All without includeAll", v.Name)
			}
			cur = varOptions[v.Name] // Grafana's All: every option
		}
		for _, c := range cur {
			if !contains(varOptions[v.Name], c) {
				t.Errorf("variable %s: current value %q is not an option %v", v.Name, c, varOptions[v.Name])
			}
		}
		vars[v.Name] = cur
	}
	requireEqual(t, "variable options", varOptions, map[string][]string{
		"platform":  analyticsfixture.Platforms,
		"role":      {"creator", "live_channel", "shop", "platform_fee", "service_provider"},
		"indicator": {"avg_order_price", "order_cnt"},
		"period":    {"DAY_30", "DAY_90"},
		"top":       {"10", "20", "50"},
	})
	requireEqual(t, "variables", vars, Vars{
		"database": {s.Database()}, "platform": analyticsfixture.Platforms, "role": {"creator"},
		"indicator": {"order_cnt"}, "period": {"DAY_30"}, "top": {"10"},
	})

	seen := map[string]bool{}
	for _, p := range d.queryPanels() {
		t.Run(p.Title, func(t *testing.T) {
			if seen[p.Title] {
				t.Fatalf("two panels are titled %q", p.Title)
			}
			seen[p.Title] = true
			want, ok := grafanaExpected[p.Title]
			if !ok {
				t.Fatalf("panel %q has no expected result in this test", p.Title)
			}
			sql := checkPanelShape(t, p)
			tr := TimeRange{From: analyticsfixture.RangeFrom, To: analyticsfixture.RangeTo}
			if p.TimeFrom != "" {
				// A panel-level relative time: now - TimeFrom .. now.
				dur, err := grafanaDuration(p.TimeFrom)
				if err != nil {
					t.Fatal(err)
				}
				now := time.Now()
				tr = TimeRange{From: now.Add(-dur), To: now}
			}
			q, err := ExpandGrafana(sql, tr, vars)
			if err != nil {
				t.Fatal(err)
			}
			cols, got := runRows(t, s, q)
			if p.Type == "timeseries" && (len(cols) == 0 || cols[0] != "time") {
				t.Errorf("time series panel's first column is %v, want time", cols)
			}
			switch p.Title {
			case "Records written per hour by vendor (last 2 days)":
				checkIngestPanel(t, got, start, end)
				return
			case "Last event per source":
				got = checkIngestedAt(t, got, start, end)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("panel %q:\ncolumns %v\n got  %q\n want %q", p.Title, cols, got, want)
			}
		})
	}
	for title := range grafanaExpected {
		if !seen[title] {
			t.Errorf("expected a panel titled %q", title)
		}
	}

	// The variables filter: one platform, two roles.
	panel := func(title string) string {
		for _, p := range d.queryPanels() {
			if p.Title == title {
				return p.Targets[0].RawSQL
			}
		}
		t.Fatalf("no panel %q", title)
		return ""
	}
	with := func(title string, change Vars) [][]string {
		v := Vars{}
		for k, x := range vars {
			v[k] = x
		}
		for k, x := range change {
			v[k] = x
		}
		q, err := ExpandGrafana(panel(title), TimeRange{From: analyticsfixture.RangeFrom, To: analyticsfixture.RangeTo}, v)
		if err != nil {
			t.Fatal(err)
		}
		_, rows := runRows(t, s, q)
		return rows
	}
	requireEqual(t, "Orders of taobao-live", with("Orders", Vars{"platform": {"taobao-live"}}), [][]string{r(4)})
	requireEqual(t, "Estimated commission, creator and live channel", with("Estimated commission", Vars{"role": {"creator", "live_channel"}}), [][]string{r("88.00")})
	requireEqual(t, "Top creators, top 1", with("Top creators", Vars{"top": {"1"}}), grafanaExpected["Top creators"][:1])
	requireEqual(t, "Xingtu avg_order_price, DAY_90", with("Xingtu creator indicator ${indicator} (${period})", Vars{"indicator": {"avg_order_price"}, "period": {"DAY_90"}}),
		[][]string{r("2024-03-01 00:00:00", "x-1", 20)})
}

// checkPanelShape checks a panel's wiring to the ClickHouse plugin and
// returns its SQL.
func checkPanelShape(t *testing.T, p grafanaPanel) string {
	t.Helper()
	if p.Datasource.Type != grafanaPluginID || p.Datasource.UID != "${datasource}" {
		t.Errorf("panel data source %+v, want type %s uid ${datasource}", p.Datasource, grafanaPluginID)
	}
	if len(p.Targets) != 1 {
		t.Fatalf("panel has %d queries, want 1", len(p.Targets))
	}
	tg := p.Targets[0]
	if tg.Datasource != p.Datasource || tg.EditorType != "sql" || tg.RefID == "" || strings.TrimSpace(tg.RawSQL) == "" {
		t.Errorf("query %+v: want the panel's data source, editorType sql, a refId and rawSql", tg)
	}
	wantFormat, wantType := 1, "table" // the plugin's Format enum: 0 time series, 1 table
	if p.Type == "timeseries" {
		wantFormat, wantType = 0, "timeseries"
	}
	if tg.Format == nil || *tg.Format != wantFormat || tg.QueryType != wantType {
		t.Errorf("%s panel: query format %v, queryType %q; want %d, %q", p.Type, tg.Format, tg.QueryType, wantFormat, wantType)
	}
	for _, table := range []string{"orders", "commission_lines", "commission_plans", "creator_snapshots", "commission_plan_history"} {
		ref := "${database}." + table
		if n, f := strings.Count(tg.RawSQL, ref+" "), strings.Count(tg.RawSQL, ref+" FINAL"); n != f || strings.Contains(tg.RawSQL, ref+"\n") {
			t.Errorf("panel reads %s without FINAL", table)
		}
	}
	return tg.RawSQL
}

// checkIngestPanel checks the records-per-hour panel: every record once,
// in hours of the test run.
func checkIngestPanel(t *testing.T, rows [][]string, start, end time.Time) {
	t.Helper()
	totals := map[string]int64{}
	for _, row := range rows {
		hour, err := time.ParseInLocation(time.DateTime, row[0], wire.CST)
		if err != nil {
			t.Fatal(err)
		}
		if hour.Before(start.Truncate(time.Hour)) || hour.After(end) {
			t.Errorf("hour %s outside the test run %s..%s", hour, start, end)
		}
		n, err := strconv.ParseInt(row[3], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		totals[row[1]+"/"+row[2]] += n
	}
	requireEqual(t, "records per vendor and kind", totals, fixtureRecords)
}

// checkIngestedAt checks the last column (the sink's last write) lies in
// the test run, and drops it.
func checkIngestedAt(t *testing.T, rows [][]string, start, end time.Time) [][]string {
	t.Helper()
	out := make([][]string, len(rows))
	for i, row := range rows {
		at, err := time.ParseInLocation(time.DateTime, row[len(row)-1], wire.CST)
		if err != nil {
			t.Fatal(err)
		}
		if at.Before(start) || at.After(end) {
			t.Errorf("row %v: last ingested at %s, outside the test run %s..%s", row, at, start, end)
		}
		out[i] = row[:len(row)-1]
	}
	return out
}

// grafanaDuration parses a Grafana relative time such as "2d" or "6h".
func grafanaDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		return time.Duration(d) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestGrafanaConfigMap requires the Kubernetes ConfigMap to carry the
// dashboard exactly as shipped in deploy/grafana.
func TestGrafanaConfigMap(t *testing.T) {
	_, raw := loadGrafanaDashboard(t)
	b, err := os.ReadFile(grafanaConfigMapFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	found := false
	for {
		var doc struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name   string            `yaml:"name"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Data map[string]string `yaml:"data"`
		}
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if doc.Kind != "ConfigMap" || doc.Data["yongjin-commission.json"] == "" {
			continue
		}
		found = true
		if doc.Metadata.Labels["grafana_dashboard"] != "1" {
			t.Errorf("ConfigMap %s lacks the label grafana_dashboard: \"1\" the Grafana sidecar looks for", doc.Metadata.Name)
		}
		if got := doc.Data["yongjin-commission.json"]; got != string(raw) {
			t.Errorf("ConfigMap %s carries a dashboard that differs from %s; regenerate it (see deploy/grafana/README.md)", doc.Metadata.Name, grafanaDashboardFile)
		}
	}
	if !found {
		t.Fatalf("%s holds no ConfigMap with yongjin-commission.json", grafanaConfigMapFile)
	}
}
