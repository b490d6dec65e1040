#include "form_special.hpp"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <set>

#include "scenario_document.hpp"

namespace satlink::gui::form {

namespace {

std::vector<std::string> stringsOf(const Schema& list) {
  std::vector<std::string> out;
  if (list.is_array())
    for (const auto& v : list)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

QStringList tipsOf(const Schema& list) {
  QStringList out;
  for (const std::string& s : stringsOf(list)) out << QString::fromStdString(s);
  return out;
}

// The preset branch of origin.keep_alive's oneOf.
Schema presetBranch(const Schema& schema) {
  for (const auto& branch : schema.value("oneOf", Schema::array()))
    if (branch.value("type", "") == "string") return branch;
  return Schema::object();
}

}  // namespace

// ---- OriginKeepAliveField

OriginKeepAliveField::OriginKeepAliveField(std::string path, Schema schema, CommitFn onCommit)
    : EnumField(path, schema, std::move(onCommit),
                stringsOf(presetBranch(schema).value("enum", Schema())),
                tipsOf(presetBranch(schema).value("enumDescriptions", Schema()))) {
  combo_->addItem(QStringLiteral("custom (timeout, max requests below)"), QStringLiteral("custom"));
  combo_->setItemData(combo_->count() - 1,
                      QStringLiteral("An object: set enabled, timeout_ms and max_requests below"),
                      Qt::ToolTipRole);
  fixedItems_ = combo_->count();
}

int OriginKeepAliveField::indexOf(const Json& v) const {
  if (v.is_object()) return combo_->findData(QStringLiteral("custom"));
  return EnumField::indexOf(v);
}

Json OriginKeepAliveField::valueAt(int index) const {
  if (combo_->itemData(index).toString() == QLatin1String("custom")) {
    // Start from the figures in effect (a preset's), so switching changes nothing by itself.
    if (current_.is_object()) return current_;
    return lastEffective_.is_object() ? lastEffective_ : Json::object();
  }
  return EnumField::valueAt(index);
}

void OriginKeepAliveField::refresh(const Snapshot& s) {
  EnumField::refresh(s);
  // The hint of item 0 would print the whole default object; say it in a few words.
  const Json def = defaultOf(schema_);
  if (def.is_object()) {
    const QSignalBlocker block(combo_);
    combo_->setItemText(
        0, QStringLiteral("(default: %1, %2 ms)")
               .arg(def.value("enabled", true) ? QStringLiteral("on") : QStringLiteral("off"),
                    displayText(def.value("timeout_ms", Json()))));
  }
  if (objectFields_) objectFields_->setEnabled(current_.is_null() || current_.is_object());
}

// ---- ModesField

ModesField::ModesField(std::string path, Schema schema, CommitFn onCommit)
    : Field(std::move(path), std::move(schema), std::move(onCommit)) {
  const Schema items = schema_.value("items", Schema::object());
  all_ = stringsOf(items.value("enum", Schema()));
  const QStringList tips = tipsOf(items.value("enumDescriptions", Schema()));
  auto* box = new QWidget;
  box->setAttribute(Qt::WA_StyledBackground);  // so the invalid frame shows on the container
  auto* grid = new QGridLayout(box);
  grid->setContentsMargins(12, 0, 0, 0);
  grid->setHorizontalSpacing(10);
  grid->setVerticalSpacing(0);
  for (std::size_t i = 0; i < all_.size(); ++i) {
    auto* check = new QCheckBox(QString::fromStdString(all_[i]), box);
    check->setObjectName(QString::fromStdString(path_ + "#" + all_[i]));
    if (int(i) < tips.size()) check->setToolTip(tips[int(i)]);
    grid->addWidget(check, int(i) / 2, int(i) % 2);
    boxes_.emplace_back(all_[i], check);
    QObject::connect(check, &QCheckBox::toggled, this,
                     [this, mode = all_[i]](bool on) { toggle(mode, on); });
  }
  const Json def = defaultOf(schema_);
  note_ = new QLabel(def == Json(all_) ? QStringLiteral("(default: all)")
                                       : QStringLiteral("(default: %1)").arg(displayText(def)),
                     box);
  note_->setForegroundRole(QPalette::PlaceholderText);
  grid->addWidget(note_, int(all_.size()) / 2, int(all_.size()) % 2);
  auto* reset = new QAction(QStringLiteral("Reset to default (all modes)"), box);
  box->addAction(reset);
  box->setContextMenuPolicy(Qt::ActionsContextMenu);
  QObject::connect(reset, &QAction::triggered, this, [this] {
    if (!current_.is_null()) commit(nullptr);
  });
  setUp(box);
}

void ModesField::toggle(const std::string& mode, bool on) {
  Json list = current_.is_array() ? current_ : Json(all_);
  Json out = Json::array();
  for (const Json& m : list)
    if (m != Json(mode)) out.push_back(m);
  if (on) out.push_back(mode);
  if (out != current_) commit(out);
}

void ModesField::refresh(const Snapshot& s) {
  current_ = s.value(path_);
  for (auto& [mode, check] : boxes_) {
    const QSignalBlocker block(check);
    bool on = current_.is_null();
    if (current_.is_array())
      on = std::find(current_.begin(), current_.end(), Json(mode)) != current_.end();
    check->setChecked(on);
  }
  note_->setVisible(current_.is_null());
}

// ---- TableField

TableField::TableField(std::string path, Schema schema, CommitFn onCommit,
                       std::vector<Column> columns, NewItem newItem)
    : Field(std::move(path), std::move(schema), std::move(onCommit)),
      columns_(std::move(columns)),
      newItem_(std::move(newItem)) {
  auto* box = new QWidget;
  auto* layout = new QVBoxLayout(box);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  table_ = new QTableWidget(0, int(columns_.size()), box);
  QStringList titles;
  for (const Column& c : columns_) titles << c.title;
  table_->setHorizontalHeaderLabels(titles);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
  table_->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  layout->addWidget(table_);
  auto* buttons = new QHBoxLayout;
  buttons->setContentsMargins(0, 0, 0, 0);
  auto* add = new QPushButton(QStringLiteral("Add"), box);
  add->setObjectName(QString::fromStdString(path_) + QStringLiteral("#add"));
  remove_ = new QPushButton(QStringLiteral("Remove"), box);
  remove_->setObjectName(QString::fromStdString(path_) + QStringLiteral("#remove"));
  remove_->setToolTip(QStringLiteral("Removes the selected rows (none selected: the last)"));
  buttons->addWidget(add);
  buttons->addWidget(remove_);
  buttons->addStretch(1);
  layout->addLayout(buttons);
  setUp(table_, box);
  QObject::connect(table_, &QTableWidget::cellChanged, this, &TableField::cellEdited);
  QObject::connect(add, &QPushButton::clicked, this, [this] {
    Json items = current_.is_array() ? current_ : Json::array();
    items.push_back(newItem_(items));
    commit(items);
  });
  QObject::connect(remove_, &QPushButton::clicked, this, &TableField::removeRows);
}

void TableField::cellEdited(int row, int column) {
  const Column& c = columns_[std::size_t(column)];
  const QString text = table_->item(row, column)->text().trimmed();
  const Json v = c.numeric ? parseNumber(text) : text.isEmpty() ? Json() : Json(text.toStdString());
  const std::string at = indexPath(path_, std::size_t(row)) + "." + c.key;
  if (v != valueAt(current_, indexPath("", std::size_t(row)) + "." + c.key)) commitAt(at, v);
}

void TableField::removeRows() {
  if (!current_.is_array() || current_.empty()) return;
  std::set<std::size_t> rows;
  for (const QModelIndex& i : table_->selectionModel()->selectedRows())
    rows.insert(std::size_t(i.row()));
  if (rows.empty()) rows.insert(current_.size() - 1);
  Json items = Json::array();
  for (std::size_t i = 0; i < current_.size(); ++i)
    if (!rows.count(i)) items.push_back(current_[i]);
  commit(items);
}

void TableField::refresh(const Snapshot& s) {
  current_ = s.value(path_);
  const QSignalBlocker block(table_);
  const int rows = current_.is_array() ? int(current_.size()) : 0;
  table_->setRowCount(rows);
  QStringList numbers;
  for (int r = 0; r < rows; ++r) {
    numbers << QString::number(r);
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const Json v = valueAt(current_[std::size_t(r)], columns_[c].key);
      const QString text = v.is_string() || v.is_number() || v.is_null()
                               ? displayText(v)
                               : QString::fromStdString(v.dump());
      QTableWidgetItem* item = table_->item(r, int(c));
      if (!item) table_->setItem(r, int(c), item = new QTableWidgetItem);
      if (item->text() != text) item->setText(text);
      if (columns_[c].numeric) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
  }
  table_->setVerticalHeaderLabels(numbers);
  remove_->setEnabled(rows > 0);
  // Tall enough for a few rows; longer lists scroll inside the table.
  const int shown = std::clamp(rows, 2, 8);
  table_->setFixedHeight(table_->horizontalHeader()->sizeHint().height() +
                         shown * table_->verticalHeader()->defaultSectionSize() +
                         2 * table_->frameWidth() + 6);
}

void TableField::showErrors(const std::vector<Error>& errors) {
  Field::showErrors(errors);
  // The cells at fault are marked below; a red frame is enough for the table itself.
  table_->setStyleSheet(
      errors.empty() ? QString() : QStringLiteral("QTableWidget { border: 1px solid #d32f2f; }"));
  const QSignalBlocker block(table_);
  for (int r = 0; r < table_->rowCount(); ++r)
    for (int c = 0; c < table_->columnCount(); ++c)
      if (QTableWidgetItem* item = table_->item(r, c)) {
        item->setData(Qt::BackgroundRole, QVariant());
        item->setToolTip(QString());
      }
  for (const Error& e : errors) {
    // "page.resources[2].size": row 2, the size column; "page.resources[2]": the whole row.
    const std::string rest = e.path.substr(path_.size());
    if (rest.size() < 3 || rest[0] != '[') continue;
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) continue;
    const int row = QString::fromStdString(rest.substr(1, close - 1)).toInt();
    const std::string key = rest.size() > close + 2 ? rest.substr(close + 2) : "";
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (!key.empty() && !isAtOrBelow(key, columns_[c].key)) continue;
      if (QTableWidgetItem* item = table_->item(row, int(c))) {
        item->setBackground(QColor(0xfd, 0xec, 0xea));
        item->setToolTip(QString::fromStdString(e.reason));
      }
    }
  }
}

// ---- PageSourceField

PageSourceField::PageSourceField(std::string path, Schema schema, CommitFn onCommit)
    : Field(std::move(path), std::move(schema), std::move(onCommit)) {
  combo_ = new QComboBox;
  combo_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  combo_->setMinimumContentsLength(10);
  combo_->addItem(QStringLiteral("listed (page.resources)"));
  combo_->addItem(QStringLiteral("generated (page.generate)"));
  combo_->setItemData(0, QStringLiteral("Each resource with its path, type and size"),
                      Qt::ToolTipRole);
  combo_->setItemData(1, QStringLiteral("A count and a size range; sizes drawn from the seed"),
                      Qt::ToolTipRole);
  tip_ = QStringLiteral(
      "Resources given as a list or generated from a count and a size range "
      "(not both). Switching converts one into the other.");
  setUp(combo_);
  QObject::connect(combo_, &QComboBox::currentIndexChanged, this,
                   [this](int index) { switchTo(index == 1); });
}

void PageSourceField::setTargets(QWidget* listed, QWidget* generated) {
  listed_ = listed;
  generated_ = generated;
}

void PageSourceField::switchTo(bool generated) {
  Json page = page_.is_object() ? page_ : Json::object();
  if (generated == page.contains("generate")) return;
  if (generated) {
    Json gen = {{"count", 10}, {"min_bytes", 5000}, {"max_bytes", 50000}};
    const Json list = page.value("resources", Json::array());
    std::vector<std::uint64_t> sizes;
    for (const Json& r : list)
      if (r.is_object() && r.value("size", Json()).is_number_unsigned())
        sizes.push_back(r["size"].get<std::uint64_t>());
    if (!sizes.empty())
      gen = {{"count", list.size()},
             {"min_bytes", *std::min_element(sizes.begin(), sizes.end())},
             {"max_bytes", *std::max_element(sizes.begin(), sizes.end())}};
    page.erase("resources");
    page["generate"] = gen;
  } else {
    page.erase("generate");
    page["resources"] = resolved_.is_array() ? resolved_ : Json::array();
  }
  commitAt("page", page);
}

void PageSourceField::refresh(const Snapshot& s) {
  page_ = s.value("page");
  resolved_ = Json::array();
  for (const auto& r : s.document->loaded().scenario.page.resources)
    resolved_.push_back({{"path", r.path}, {"type", r.content_type}, {"size", r.size}});
  const bool hasGenerate = page_.is_object() && page_.contains("generate");
  const bool hasList = page_.is_object() && page_.contains("resources");
  {
    const QSignalBlocker block(combo_);
    combo_->setCurrentIndex(hasGenerate ? 1 : 0);
  }
  // Both given is an error the loader reports; show both so either can be removed.
  if (listed_) listed_->setVisible(!hasGenerate || hasList);
  if (generated_) generated_->setVisible(hasGenerate);
}

}  // namespace satlink::gui::form
